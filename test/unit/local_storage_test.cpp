#include "core/storage/local/local_storage.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "libc_spy.hpp"
#include "test_support.hpp"

namespace {

using convoy::Error;
using convoy::ErrorKind;
using convoy::LocalStorage;
using convoy::ObjectUpload;
using convoy::test::exists;
using convoy::test::list_files;
using convoy::test::read_file;
using convoy::test::TempDir;

using Files = std::vector<std::string>;

void put(ObjectUpload &up, const std::string &bytes) {
    up.write(reinterpret_cast<const uint8_t *>(bytes.data()), bytes.size());
}

bool is_temp_name(const std::string &path) {
    std::string name = path.substr(path.rfind('/') + 1);
    return name.size() > 5 && name[0] == '.' && name.compare(name.size() - 4, 4, ".tmp") == 0;
}


class LocalStorageTest : public ::testing::Test {
protected:
    TempDir dir;
    std::string root = dir / "store";
    std::string outside = dir / "outside";

    void SetUp() override {
        ASSERT_EQ(::mkdir(root.c_str(), 0755), 0);
        ASSERT_EQ(::mkdir(outside.c_str(), 0755), 0);
    }
};

TEST_F(LocalStorageTest, CommitWritesExactBytes) {
    LocalStorage store(root);
    std::string bytes = convoy::test::random_bytes(1024 * 1024 + 3);
    bytes[10] = '\0';
    auto up = store.begin_upload("backup/2026-11-25/s.t/obj.jsonl.gz");
    put(*up, bytes.substr(0, 5));
    put(*up, bytes.substr(5));
    up->commit();
    EXPECT_TRUE(read_file(root + "/backup/2026-11-25/s.t/obj.jsonl.gz") == bytes);
    EXPECT_EQ(list_files(root), Files{"backup/2026-11-25/s.t/obj.jsonl.gz"});
}

TEST_F(LocalStorageTest, EmptyObject) {
    LocalStorage store(root);
    auto up = store.begin_upload("empty");
    up->commit();
    EXPECT_EQ(read_file(root + "/empty"), "");
}

// A crashed attempt may have made an object's directories and died before their
// entries were fsynced: the next object in them makes each directory on its
// path durable all the same, once per storage (and again on a new entry).
TEST_F(LocalStorageTest, DirectoriesOnThePathAreFsyncedOnce) {
    const std::string backup = root + "/backup", date = backup + "/2026-11-25",
                      table = date + "/convoy.events", other_table = date + "/convoy.other";
    for (const std::string &path : {backup, date, table})
        ASSERT_EQ(::mkdir(path.c_str(), 0755), 0) << path;
    LocalStorage store(root);
    auto write_object = [&](const std::string &key) {
        auto up = store.begin_upload(key);
        put(*up, "x");
        up->commit();
    };
    {
        convoy::test::LibcSpy spy;
        write_object("backup/2026-11-25/convoy.events/first.jsonl.gz");
        for (const std::string &path : {root, backup, date, table})
            EXPECT_EQ(spy.fsyncs(path), 1) << path;
    }
    {
        convoy::test::LibcSpy spy;
        write_object("backup/2026-11-25/convoy.events/second.jsonl.gz");
        for (const std::string &path : {root, backup, date})
            EXPECT_EQ(spy.fsyncs(path), 0) << path;
        EXPECT_EQ(spy.fsyncs(table), 1); // the new object's entry
    }
    {
        convoy::test::LibcSpy spy;
        write_object("backup/2026-11-25/convoy.other/first.jsonl.gz");
        EXPECT_EQ(spy.fsyncs(root), 0);
        EXPECT_EQ(spy.fsyncs(backup), 0);
        EXPECT_EQ(spy.fsyncs(date), 1); // the new directory's entry
        EXPECT_GE(spy.fsyncs(other_table), 1);
    }
}

// The modes are set explicitly: the umask neither widens nor narrows them.
void expect_modes(const std::string &root, mode_t file_mode, mode_t directory_mode) {
    LocalStorage store(root, file_mode);
    auto up = store.begin_upload("d1/d2/obj");
    put(*up, "x");
    up->commit();
    struct stat st;
    ASSERT_EQ(::stat((root + "/d1").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, directory_mode);
    ASSERT_EQ(::stat((root + "/d1/d2").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, directory_mode);
    ASSERT_EQ(::stat((root + "/d1/d2/obj").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, file_mode);
}

TEST_F(LocalStorageTest, ModesOfNewFilesAndDirectories) {
    mode_t old = ::umask(0022); // would leave 0644/0755 without the explicit modes
    expect_modes(root, 0600, 0700);
    ::umask(old);
}

TEST_F(LocalStorageTest, GroupReadableModesDespiteUmask) {
    mode_t old = ::umask(0077); // PostgreSQL's umask
    expect_modes(root, 0640, 0750);
    ::umask(old);
}

TEST_F(LocalStorageTest, OtherModesAreRefused) {
    for (mode_t mode : {mode_t(0644), mode_t(0660), mode_t(0400), mode_t(0700)}) {
        try {
            LocalStorage store(root, mode);
            ADD_FAILURE() << "mode " << std::oct << mode << " was accepted";
        } catch (const convoy::Error &e) {
            EXPECT_EQ(e.kind(), convoy::ErrorKind::invalid_config);
        }
    }
}

TEST_F(LocalStorageTest, NothingVisibleBeforeCommit) {
    LocalStorage store(root);
    auto up = store.begin_upload("a/b/obj");
    put(*up, "partial");
    EXPECT_FALSE(exists(root + "/a/b/obj"));
    Files files = list_files(root);
    ASSERT_EQ(files.size(), 1u);
    EXPECT_EQ(files[0].rfind("a/b/", 0), 0u) << files[0];
    EXPECT_TRUE(is_temp_name(files[0])) << files[0];
    up->commit();
    EXPECT_EQ(list_files(root), Files{"a/b/obj"});
}

TEST_F(LocalStorageTest, AbortLeavesNothing) {
    LocalStorage store(root);
    auto up = store.begin_upload("a/obj");
    put(*up, "discard me");
    up->abort();
    EXPECT_EQ(list_files(root), Files{});
    // abort() is idempotent, and the destructor after it is harmless.
    up->abort();
    up.reset();
    EXPECT_EQ(list_files(root), Files{});
}

TEST_F(LocalStorageTest, DestructionWithoutCommitLeavesNothing) {
    LocalStorage store(root);
    {
        auto up = store.begin_upload("a/obj");
        put(*up, "discard me");
    }
    EXPECT_EQ(list_files(root), Files{});
    EXPECT_FALSE(exists(root + "/a/obj"));
}

TEST_F(LocalStorageTest, AbortKeepsAnExistingObject) {
    LocalStorage store(root);
    auto first = store.begin_upload("obj");
    put(*first, "old");
    first->commit();
    auto second = store.begin_upload("obj");
    put(*second, "new");
    second->abort();
    EXPECT_EQ(read_file(root + "/obj"), "old");
    EXPECT_EQ(list_files(root), Files{"obj"});
}

TEST_F(LocalStorageTest, CommitReplacesAnExistingObject) {
    LocalStorage store(root);
    for (const char *content : {"first version, longer", "second"}) {
        auto up = store.begin_upload("x/obj");
        put(*up, content);
        up->commit();
        EXPECT_EQ(read_file(root + "/x/obj"), content);
    }
    EXPECT_EQ(list_files(root), Files{"x/obj"});
}

TEST_F(LocalStorageTest, ConcurrentUploadsOfOneKeyUseDistinctTemporaryFiles) {
    LocalStorage store(root);
    auto a = store.begin_upload("k");
    auto b = store.begin_upload("k");
    put(*a, "from a");
    put(*b, "from b");
    EXPECT_EQ(list_files(root).size(), 2u);
    b->commit();
    a->commit();
    EXPECT_EQ(read_file(root + "/k"), "from a");
    EXPECT_EQ(list_files(root), Files{"k"});
}

TEST_F(LocalStorageTest, UseAfterCommitOrAbortThrows) {
    LocalStorage store(root);
    auto up = store.begin_upload("k");
    up->commit();
    EXPECT_THROW(put(*up, "late"), Error);
    EXPECT_THROW(up->commit(), Error);
    up->abort(); // after commit: a no-op that keeps the object
    EXPECT_EQ(list_files(root), Files{"k"});

    auto other = store.begin_upload("j");
    other->abort();
    EXPECT_THROW(put(*other, "late"), Error);
    EXPECT_THROW(other->commit(), Error);
    EXPECT_EQ(list_files(root), Files{"k"});
}

TEST_F(LocalStorageTest, BadKeysAreRefusedBeforeTouchingTheDisk) {
    LocalStorage store(root);
    for (const char *key : {"", "../escape", "a/../../escape", "/abs/path", "a//b", "a/", ".",
                            "a/./b", "a\\b"}) {
        try {
            store.begin_upload(key);
            ADD_FAILURE() << "accepted: " << key;
        } catch (const Error &e) {
            EXPECT_EQ(e.kind(), ErrorKind::invalid_key) << key;
        }
    }
    EXPECT_EQ(list_files(root), Files{});
    EXPECT_EQ(list_files(outside), Files{});
    EXPECT_EQ(list_files(dir.path()), Files{});
}

TEST_F(LocalStorageTest, SymlinkInsideRootIsRefused) {
    ASSERT_EQ(::symlink(outside.c_str(), (root + "/evil").c_str()), 0);
    LocalStorage store(root);
    try {
        store.begin_upload("evil/obj");
        FAIL() << "symbolic link was followed";
    } catch (const Error &e) {
        EXPECT_EQ(e.kind(), ErrorKind::invalid_key);
        EXPECT_EQ(std::string(e.what()),
                  "object key \"evil/obj\" would leave the storage directory");
        EXPECT_NE(e.detail().find("\"" + root + "/evil\""), std::string::npos) << e.detail();
        EXPECT_NE(e.detail().find("symbolic link"), std::string::npos) << e.detail();
    }
    EXPECT_EQ(list_files(outside), Files{});
}

TEST_F(LocalStorageTest, DeeperSymlinkIsRefused) {
    ASSERT_EQ(::mkdir((root + "/a").c_str(), 0755), 0);
    ASSERT_EQ(::symlink(outside.c_str(), (root + "/a/b").c_str()), 0);
    // A link to a directory inside the root is refused too: links are never followed.
    ASSERT_EQ(::symlink((root + "/a").c_str(), (root + "/inner").c_str()), 0);
    LocalStorage store(root);
    for (const char *key : {"a/b/c/obj", "a/b/obj", "inner/obj"}) {
        try {
            store.begin_upload(key);
            ADD_FAILURE() << "symbolic link was followed for " << key;
        } catch (const Error &e) {
            EXPECT_EQ(e.kind(), ErrorKind::invalid_key) << key;
        }
    }
    EXPECT_EQ(list_files(outside), Files{});
    EXPECT_EQ(list_files(root), (Files{"a/b", "inner"}));
}

TEST_F(LocalStorageTest, DanglingSymlinkIsRefused) {
    ASSERT_EQ(::symlink((outside + "/new").c_str(), (root + "/d").c_str()), 0);
    LocalStorage store(root);
    EXPECT_THROW(store.begin_upload("d/obj"), Error);
    EXPECT_FALSE(exists(outside + "/new"));
}

TEST_F(LocalStorageTest, SymlinkAsFinalNameIsReplacedNotFollowed) {
    std::string target = outside + "/victim";
    convoy::test::write_file(target, "precious");
    ASSERT_EQ(::symlink(target.c_str(), (root + "/obj").c_str()), 0);
    LocalStorage store(root);
    auto up = store.begin_upload("obj");
    put(*up, "object");
    up->commit();
    EXPECT_EQ(read_file(target), "precious");
    struct stat st;
    ASSERT_EQ(::lstat((root + "/obj").c_str(), &st), 0);
    EXPECT_TRUE(S_ISREG(st.st_mode));
    EXPECT_EQ(read_file(root + "/obj"), "object");
}

TEST_F(LocalStorageTest, FileInPlaceOfDirectoryIsAnIoError) {
    convoy::test::write_file(root + "/a", "I am a file");
    LocalStorage store(root);
    try {
        store.begin_upload("a/obj");
        FAIL() << "no error";
    } catch (const Error &e) {
        EXPECT_EQ(e.kind(), ErrorKind::storage_io);
        EXPECT_EQ(std::string(e.what()).rfind("could not open directory \"" + root + "/a\": ", 0),
                  0u)
            << e.what();
    }
}

TEST_F(LocalStorageTest, RootMayBeASymlinkAndHaveATrailingSlash) {
    std::string link = dir / "link-to-store";
    ASSERT_EQ(::symlink(root.c_str(), link.c_str()), 0);
    LocalStorage store(link + "/");
    EXPECT_EQ(store.describe(), "local directory \"" + link + "\"");
    auto up = store.begin_upload("x/obj");
    put(*up, "via link");
    up->commit();
    EXPECT_EQ(read_file(root + "/x/obj"), "via link");
}

TEST_F(LocalStorageTest, RootMustBeAnAbsoluteExistingDirectory) {
    struct Case {
        std::string root;
        std::string message;
    };
    convoy::test::write_file(dir / "plain-file", "");
    std::vector<Case> cases = {
        {"", "storage directory is not set"},
        {"relative/dir", "storage directory \"relative/dir\" is not an absolute path"},
        {"./store", "storage directory \"./store\" is not an absolute path"},
        {dir / "missing", "storage directory \"" + (dir / "missing") + "\" does not exist"},
        {dir / "plain-file", "storage directory \"" + (dir / "plain-file") + "\" is not a directory"},
    };
    for (const Case &c : cases) {
        try {
            LocalStorage store(c.root);
            ADD_FAILURE() << "accepted root " << c.root;
        } catch (const Error &e) {
            EXPECT_EQ(e.kind(), ErrorKind::invalid_config) << c.root;
            EXPECT_EQ(std::string(e.what()), c.message);
        }
    }
}

TEST_F(LocalStorageTest, RootRemovedAfterConstructionIsAnIoError) {
    std::string gone = dir / "gone";
    ASSERT_EQ(::mkdir(gone.c_str(), 0755), 0);
    LocalStorage store(gone);
    ASSERT_EQ(::rmdir(gone.c_str()), 0);
    try {
        store.begin_upload("obj");
        FAIL() << "no error";
    } catch (const Error &e) {
        EXPECT_EQ(e.kind(), ErrorKind::storage_io);
        EXPECT_EQ(std::string(e.what()),
                  "could not open storage directory \"" + gone + "\": No such file or directory");
    }
}

} // namespace
