// LocalStorage::list() and open_read(): keys in byte order under a prefix,
// never a temporary file, never through a link, and objects read back whole.
#include "core/storage/local/local_storage.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "core/error.hpp"
#include "test_support.hpp"

namespace {

using convoy::Error;
using convoy::ErrorKind;
using convoy::ListedObject;
using convoy::LocalStorage;
using convoy::test::catch_error;
using convoy::test::read_all;
using convoy::test::TempDir;

using Listing = std::vector<std::pair<std::string, uint64_t>>;

class LocalReadTest : public ::testing::Test {
protected:
    TempDir dir;
    std::string root = dir / "store";
    std::string outside = dir / "outside";

    void SetUp() override {
        ASSERT_EQ(::mkdir(root.c_str(), 0755), 0);
        ASSERT_EQ(::mkdir(outside.c_str(), 0755), 0);
    }

    void put(LocalStorage &store, const std::string &key, const std::string &bytes) {
        auto up = store.begin_upload(key);
        up->write(reinterpret_cast<const uint8_t *>(bytes.data()), bytes.size());
        up->commit();
    }

    Listing list(LocalStorage &store, const std::string &prefix) {
        Listing out;
        store.list(prefix, [&](const ListedObject &o) { out.emplace_back(o.key, o.size); });
        return out;
    }
};

std::vector<std::string> keys_of(const Listing &listing) {
    std::vector<std::string> keys;
    for (const auto &entry : listing)
        keys.push_back(entry.first);
    return keys;
}

TEST_F(LocalReadTest, ListsEveryObjectInByteOrderOfKeys) {
    LocalStorage store(root);
    // Names chosen so that a plain per-directory sort would get the order
    // wrong: '-' and '.' sort before '/', '0' after it.
    std::vector<std::string> keys = {
        "backup/2024-05-01/convoy.events/2024-05-01T12:00:00Z.jsonl.gz",
        "backup/2024-05-01/convoy.events/2024-05-01T13:00:00Z.jsonl.gz",
        "backup/2024-05-01/convoy.events-x/a",
        "backup/2024-05-01/convoy.events.y",
        "backup/2024-05-01/convoy.events0",
        "backup/2024-05-02/convoy.events/x",
        "a%2Fb",
        "a",
        "Z",
    };
    for (size_t i = 0; i < keys.size(); i++)
        put(store, keys[i], std::string(i * 10, 'x'));
    Listing listing = list(store, "");
    std::vector<std::string> sorted = keys;
    std::sort(sorted.begin(), sorted.end());
    EXPECT_EQ(keys_of(listing), sorted);
    for (const auto &[key, size] : listing) {
        size_t i = std::find(keys.begin(), keys.end(), key) - keys.begin();
        EXPECT_EQ(size, i * 10) << key;
    }
}

TEST_F(LocalReadTest, PrefixSelectsKeysThatStartWithIt) {
    LocalStorage store(root);
    for (const char *key : {"backup/2024-05-01/convoy.events/1", "backup/2024-05-01/convoy.events/2",
                            "backup/2024-05-01/convoy.other/1", "backup/2024-05-01/convoy.ev",
                            "backup/2024-05-02/convoy.events/1", "backupx/1"})
        put(store, key, "x");
    EXPECT_EQ(keys_of(list(store, "backup/2024-05-01/convoy.events/")),
              (std::vector<std::string>{"backup/2024-05-01/convoy.events/1",
                                        "backup/2024-05-01/convoy.events/2"}));
    EXPECT_EQ(keys_of(list(store, "backup/2024-05-01/convoy.ev")),
              (std::vector<std::string>{"backup/2024-05-01/convoy.ev",
                                        "backup/2024-05-01/convoy.events/1",
                                        "backup/2024-05-01/convoy.events/2"}));
    EXPECT_EQ(list(store, "backup/").size(), 5u);
    EXPECT_EQ(list(store, "backup").size(), 6u);
    EXPECT_EQ(list(store, "b").size(), 6u);
    EXPECT_EQ(list(store, "backup/2024-05-01/convoy.events/1").size(), 1u);
    // Nothing there, or a file where the prefix wants a directory: no objects.
    EXPECT_TRUE(list(store, "backup/2024-06-01/").empty());
    EXPECT_TRUE(list(store, "nothing").empty());
    EXPECT_TRUE(list(store, "backupx/1/").empty());
}

TEST_F(LocalReadTest, EmptyStore) {
    LocalStorage store(root);
    EXPECT_TRUE(list(store, "").empty());
}

TEST_F(LocalReadTest, TemporaryFilesOfUploadsAreNotObjects) {
    LocalStorage store(root);
    put(store, "t/done", "1");
    auto pending = store.begin_upload("t/pending"); // its temporary file is in t/
    pending->write(reinterpret_cast<const uint8_t *>("2"), 1);
    convoy::test::write_file(root + "/t/.convoy-99999-0.tmp", "left by a crash");
    EXPECT_EQ(convoy::test::list_files(root).size(), 3u);
    EXPECT_EQ(keys_of(list(store, "")), (std::vector<std::string>{"t/done"}));
    EXPECT_EQ(catch_error([&] { store.open_read("t/.convoy-99999-0.tmp"); }).kind(),
              ErrorKind::not_found);
    pending->commit();
    EXPECT_EQ(keys_of(list(store, "t/")), (std::vector<std::string>{"t/done", "t/pending"}));
}

TEST_F(LocalReadTest, LinksAreNeitherListedNorFollowed) {
    LocalStorage store(root);
    put(store, "in/obj", "inside");
    convoy::test::write_file(outside + "/secret", "outside");
    ASSERT_EQ(::symlink(outside.c_str(), (root + "/evil").c_str()), 0);
    ASSERT_EQ(::symlink((outside + "/secret").c_str(), (root + "/in/file-link").c_str()), 0);
    EXPECT_EQ(keys_of(list(store, "")), (std::vector<std::string>{"in/obj"}));
    EXPECT_TRUE(list(store, "evil/").empty());

    Error through_dir = catch_error([&] { store.open_read("evil/secret"); });
    EXPECT_EQ(through_dir.kind(), ErrorKind::invalid_key);
    EXPECT_EQ(std::string(through_dir.what()),
              "object key \"evil/secret\" would leave the storage directory");
    EXPECT_EQ(catch_error([&] { store.open_read("in/file-link"); }).kind(), ErrorKind::invalid_key);
}

TEST_F(LocalReadTest, BadPrefixesAndKeysAreRefused) {
    LocalStorage store(root);
    for (const char *prefix : {"/etc/", "../", "a/../", "a//", "./x"})
        EXPECT_EQ(catch_error([&] { list(store, prefix); }).kind(), ErrorKind::invalid_key)
            << prefix;
    Error e = catch_error([&] { list(store, "../outside/"); });
    EXPECT_STREQ(e.what(), "invalid object key prefix \"../outside/\": the prefix contains a "
                           "\".\" or \"..\" path component");
    EXPECT_EQ(catch_error([&] { list(store, "a\\b"); }).kind(), ErrorKind::invalid_key);
    EXPECT_EQ(catch_error([&] { list(store, std::string("a/b\0c", 5)); }).kind(),
              ErrorKind::invalid_key);
    // A name that merely starts like ".." is a name.
    EXPECT_TRUE(list(store, "..").empty());
    for (const char *key : {"../outside/secret", "/etc/passwd", "a//b", ""})
        EXPECT_EQ(catch_error([&] { store.open_read(key); }).kind(), ErrorKind::invalid_key) << key;
}

TEST_F(LocalReadTest, OpenReadStreamsTheExactBytes) {
    LocalStorage store(root);
    std::string bytes = convoy::test::random_bytes(3 * 1024 * 1024 + 11);
    bytes[7] = '\0';
    put(store, "big/object.bin", bytes);
    auto reader = store.open_read("big/object.bin");
    EXPECT_TRUE(read_all(*reader, 4096) == bytes);
    uint8_t b;
    EXPECT_EQ(reader->read(&b, 1), 0u);

    put(store, "empty", "");
    auto empty = store.open_read("empty");
    EXPECT_EQ(read_all(*empty), "");
}

// Every key list() returns can be opened as it is.
TEST_F(LocalReadTest, ListedKeysOpen) {
    LocalStorage store(root);
    put(store, "p/a%2Fb", "percent");
    put(store, "p/convoy.events/2024-05-01T12:00:00Z.jsonl.gz", "colons");
    for (const auto &[key, size] : list(store, "p/")) {
        auto reader = store.open_read(key);
        EXPECT_EQ(read_all(*reader).size(), size) << key;
    }
}

TEST_F(LocalReadTest, MissingObjectIsNotFound) {
    LocalStorage store(root);
    put(store, "dir/obj", "x");
    for (const char *key : {"nothing", "dir/other", "no/such/dir/obj", "dir/obj/below", "dir"}) {
        Error e = catch_error([&] { store.open_read(key); });
        EXPECT_EQ(e.kind(), ErrorKind::not_found) << key;
        EXPECT_EQ(std::string(e.what()), std::string("object \"") + key +
                                             "\" does not exist in local directory \"" + root +
                                             "\"");
    }
}

TEST_F(LocalReadTest, CallbackErrorsStopTheWalk) {
    LocalStorage store(root);
    for (const char *key : {"a/1", "a/2", "b/1"})
        put(store, key, "x");
    int calls = 0;
    Error e = catch_error([&] {
        store.list("", [&](const ListedObject &) {
            if (++calls == 2)
                throw Error(ErrorKind::storage_io, "stop");
        });
    });
    EXPECT_STREQ(e.what(), "stop");
    EXPECT_EQ(calls, 2);
}

} // namespace
