// S3Storage::list() and open_read() against the scripted S3 (fake_s3.hpp),
// which checks every request's signature, Range and If-Match included.
#include "core/storage/s3/s3_storage.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <string>
#include <utility>
#include <vector>

#include "core/compress/gzip_writer.hpp"
#include "core/error.hpp"
#include "core/read/gzip_reader.hpp"
#include "core/read/line_reader.hpp"
#include "fake_s3.hpp"
#include "test_support.hpp"

namespace {

using convoy::Error;
using convoy::ErrorKind;
using convoy::ListedObject;
using convoy::S3Config;
using convoy::S3Storage;
using convoy::test::catch_error;
using convoy::test::FakeRequest;
using convoy::test::FakeResponse;
using convoy::test::read_all;
using convoy::test::S3Fixture;

using Listing = std::vector<std::pair<std::string, uint64_t>>;

struct S3Read : S3Fixture {
    // Objects under the fixture's prefix "cluster-a", written as S3Storage writes them.
    void put(S3Storage &storage, const std::string &key, const std::string &bytes) {
        auto up = storage.begin_upload(key);
        up->write(reinterpret_cast<const uint8_t *>(bytes.data()), bytes.size());
        up->commit();
    }
    Listing list(S3Storage &storage, const std::string &prefix) {
        Listing out;
        storage.list(prefix, [&](const ListedObject &o) { out.emplace_back(o.key, o.size); });
        return out;
    }
    size_t count(const std::string &what) {
        return static_cast<size_t>(std::count(s3.log.begin(), s3.log.end(), what));
    }
    std::vector<FakeRequest> requests(const std::string &method) {
        std::vector<FakeRequest> out;
        for (const FakeRequest &r : server.requests())
            if (r.method == method)
                out.push_back(r);
        return out;
    }
};

const std::vector<std::string> sample_keys = {
    "backup/2024-05-01/convoy.events/2024-05-01T12:00:00Z.jsonl.gz",
    "backup/2024-05-01/convoy.events/2024-05-01T13:00:00Z.jsonl.gz",
    "backup/2024-05-01/convoy.other/2024-05-01T12:00:00Z.jsonl.gz",
    "backup/2024-05-02/convoy.events/2024-05-02T00:00:00Z.jsonl.gz",
    "a%2Fb",
    "a b+c&d<e>",
    "z",
};

TEST_F(S3Read, ListsEveryPageInByteOrderWithoutThePrefix) {
    S3Config c = config();
    c.list_page_size = 3;
    S3Storage storage(c);
    for (size_t i = 0; i < sample_keys.size(); i++)
        put(storage, sample_keys[i], std::string(i + 1, 'x'));
    // Not the store's: beside the prefix, a "directory" marker, an invalid key.
    s3.objects["/backups/cluster-ab/x"] = "1";
    s3.objects["/backups/other/y"] = "2";
    s3.objects["/backups/cluster-a/backup/"] = "";
    s3.objects["/backups/cluster-a/a//b"] = "3";

    Listing listing = list(storage, "");
    std::vector<std::string> sorted = sample_keys;
    std::sort(sorted.begin(), sorted.end());
    ASSERT_EQ(listing.size(), sorted.size());
    for (size_t i = 0; i < sorted.size(); i++) {
        EXPECT_EQ(listing[i].first, sorted[i]);
        size_t at = std::find(sample_keys.begin(), sample_keys.end(), sorted[i]) - sample_keys.begin();
        EXPECT_EQ(listing[i].second, at + 1) << sorted[i];
    }
    // 9 names under "cluster-a/", 3 a page.
    EXPECT_EQ(count("LIST"), 3u);
    auto lists = requests("GET");
    ASSERT_EQ(lists.size(), 3u);
    auto q = convoy::test::parse_s3_query(lists[0].query);
    EXPECT_EQ(q["prefix"], "cluster-a/");
    EXPECT_EQ(q["max-keys"], "3");
    EXPECT_EQ(q["encoding-type"], "url");
    EXPECT_EQ(q.count("continuation-token"), 0u);
    EXPECT_EQ(convoy::test::parse_s3_query(lists[1].query).count("continuation-token"), 1u);
}

TEST_F(S3Read, KeyPrefixIsJoinedToTheStorePrefix) {
    S3Config c = config();
    c.list_page_size = 2;
    S3Storage storage(c);
    for (const std::string &key : sample_keys)
        put(storage, key, "x");
    Listing listing = list(storage, "backup/2024-05-01/convoy.");
    ASSERT_EQ(listing.size(), 3u);
    EXPECT_EQ(listing[0].first, sample_keys[0]);
    EXPECT_EQ(listing[2].first, sample_keys[2]);
    EXPECT_EQ(convoy::test::parse_s3_query(requests("GET")[0].query)["prefix"],
              "cluster-a/backup/2024-05-01/convoy.");
    EXPECT_EQ(list(storage, "a%2F").size(), 1u);
}

TEST_F(S3Read, EmptyListing) {
    S3Storage storage(config());
    EXPECT_TRUE(list(storage, "").empty());
    EXPECT_TRUE(list(storage, "backup/").empty());
    EXPECT_EQ(count("LIST"), 2u);
}

TEST_F(S3Read, NoStorePrefix) {
    S3Config c = config();
    c.prefix = "";
    S3Storage storage(c);
    put(storage, "k/1", "x");
    EXPECT_EQ(list(storage, ""), (Listing{{"k/1", 1}}));
    EXPECT_EQ(convoy::test::parse_s3_query(requests("GET")[0].query).count("prefix"), 0u);
    // Path style, the bucket's path.
    EXPECT_EQ(requests("GET")[0].path, "/backups");
}

// s3rver ignores encoding-type=url; its keys come as they are, and are taken so.
TEST_F(S3Read, KeysOfAStoreThatDoesNotEncodeThem) {
    s3.honour_encoding_type = false;
    S3Storage storage(config());
    put(storage, "a%2Fb", "x");
    put(storage, "a b+c", "y");
    EXPECT_EQ(list(storage, ""), (Listing{{"a b+c", 1}, {"a%2Fb", 1}}));
}

TEST_F(S3Read, BadPrefixIsRefusedWithoutARequest) {
    S3Storage storage(config());
    EXPECT_EQ(catch_error([&] { list(storage, "../"); }).kind(), ErrorKind::invalid_key);
    EXPECT_EQ(catch_error([&] { list(storage, "/x"); }).kind(), ErrorKind::invalid_key);
    EXPECT_EQ(catch_error([&] { storage.open_read("../cluster-b/k"); }).kind(),
              ErrorKind::invalid_key);
    EXPECT_EQ(server.request_count(), 0u);
}

TEST_F(S3Read, MissingBucketIsNotFound) {
    s3.inject = [](const FakeRequest &req, int) -> std::optional<FakeResponse> {
        if (req.method == "GET")
            return convoy::test::s3_error(404, "NoSuchBucket", "The specified bucket does not exist");
        return std::nullopt;
    };
    S3Storage storage(config());
    Error e = catch_error([&] { list(storage, "backup/"); });
    EXPECT_EQ(e.kind(), ErrorKind::not_found);
    EXPECT_STREQ(e.what(),
                 "could not list s3://backups/cluster-a/backup/: the bucket does not exist");
}

TEST_F(S3Read, OpenReadStreamsALargeObject) {
    S3Config c = config(1024 * 1024);
    c.read_buffer_size = 8 * 1024;
    S3Storage storage(c);
    std::string bytes = convoy::test::random_bytes(3 * 1024 * 1024 + 1);
    put(storage, sample_keys[0], bytes);
    auto reader = storage.open_read(sample_keys[0]);
    EXPECT_TRUE(read_all(*reader, 5000) == bytes);
    auto gets = requests("GET");
    ASSERT_EQ(gets.size(), 1u);
    EXPECT_EQ(gets[0].target,
              "/backups/cluster-a/backup/2024-05-01/convoy.events/2024-05-01T12%3A00%3A00Z.jsonl.gz");
    EXPECT_NE(gets[0].header_or("Authorization").find("AWS4-HMAC-SHA256"), std::string::npos);
}

// What the writer stores comes back as the same lines: gzip members, then lines.
TEST_F(S3Read, GzipObjectReadsBackLineByLine) {
    S3Config c = config(1024 * 1024);
    c.read_buffer_size = 16 * 1024;
    S3Storage storage(c);
    std::string text = convoy::test::sample_rows(5 * 1024 * 1024);
    {
        auto up = storage.begin_upload("t.jsonl.gz");
        convoy::GzipWriter gz(*up);
        gz.write(text);
        gz.finish();
        up->commit();
    }
    auto object = storage.open_read("t.jsonl.gz");
    convoy::GzipReader inflated(*object);
    convoy::LineReader lines(inflated, 4096);
    std::string joined;
    std::string_view line;
    while (lines.next(line)) {
        joined.append(line);
        joined += '\n';
    }
    EXPECT_TRUE(joined == text);
}

TEST_F(S3Read, ListedKeysOpen) {
    S3Config c = config();
    c.list_page_size = 2;
    S3Storage storage(c);
    for (const std::string &key : sample_keys)
        put(storage, key, key);
    for (const auto &[key, size] : list(storage, "")) {
        auto reader = storage.open_read(key);
        EXPECT_EQ(read_all(*reader), key);
        EXPECT_EQ(size, key.size());
    }
}

TEST_F(S3Read, MissingObjectIsNotFoundUnderItsStoredName) {
    S3Storage storage(config());
    Error e = catch_error([&] { storage.open_read("backup/missing.jsonl.gz"); });
    EXPECT_EQ(e.kind(), ErrorKind::not_found);
    EXPECT_EQ(std::string(e.what()),
              "object \"cluster-a/backup/missing.jsonl.gz\" does not exist in s3://backups/cluster-a at " +
                  server.url());
    EXPECT_EQ(count("GET"), 1u); // not retried
}

TEST_F(S3Read, LostConnectionResumesWithASignedRange) {
    S3Storage storage(config(1024 * 1024));
    std::string bytes = convoy::test::random_bytes(2 * 1024 * 1024);
    put(storage, "k", bytes);
    bool cut = false;
    s3.tamper = [&](const FakeRequest &req, FakeResponse &r) {
        if (req.method == "GET" && !cut) {
            cut = true;
            r.cut_body_at = 300000;
        }
    };
    auto reader = storage.open_read("k");
    EXPECT_TRUE(read_all(*reader) == bytes);
    auto gets = requests("GET");
    ASSERT_EQ(gets.size(), 2u);
    EXPECT_EQ(gets[1].header_or("Range"), "bytes=300000-");
    EXPECT_EQ(gets[1].header_or("If-Match"), convoy::test::FakeS3::etag_of(bytes));
    // Both headers are signed (the fake checked the signature).
    std::string auth = gets[1].header_or("Authorization");
    EXPECT_NE(auth.find("if-match"), std::string::npos);
    EXPECT_NE(auth.find("range"), std::string::npos);
}

TEST_F(S3Read, ObjectReplacedWhileReadIsAnError) {
    S3Storage storage(config(1024 * 1024));
    put(storage, "k", convoy::test::random_bytes(500000));
    s3.tamper = [&](const FakeRequest &req, FakeResponse &r) {
        if (req.method == "GET" && req.header("Range") == nullptr) {
            r.cut_body_at = 1000;
            s3.objects["/backups/cluster-a/k"] = convoy::test::random_bytes(500000, 7);
        }
    };
    auto reader = storage.open_read("k");
    Error e = catch_error([&] { read_all(*reader); });
    EXPECT_EQ(e.kind(), ErrorKind::storage_io);
    EXPECT_STREQ(e.what(),
                 "could not read s3://backups/cluster-a/k: the object changed while it was read");
}

TEST_F(S3Read, CanceledRead) {
    std::atomic<bool> canceled{false};
    S3Config c = config(1024 * 1024);
    c.read_buffer_size = 16 * 1024;
    c.http.canceled = [&] { return canceled.load(); };
    S3Storage storage(c);
    put(storage, "k", convoy::test::random_bytes(2 * 1024 * 1024));
    auto reader = storage.open_read("k");
    uint8_t buf[1000];
    EXPECT_EQ(reader->read(buf, sizeof(buf)), sizeof(buf));
    canceled = true;
    EXPECT_STREQ(catch_error([&] { reader->read(buf, sizeof(buf)); }).what(),
                 "could not read s3://backups/cluster-a/k: request canceled");
    EXPECT_STREQ(catch_error([&] { list(storage, ""); }).what(),
                 "could not list s3://backups/cluster-a/: request canceled");
}

TEST(S3ReadConfig, PageSizeAndBufferAreChecked) {
    S3Config c;
    c.bucket = "b";
    c.access_key = "AKID";
    c.secret_key = "SECRET";
    c.list_page_size = 1001;
    EXPECT_EQ(catch_error([&] { S3Storage s(c); }).kind(), ErrorKind::invalid_config);
    c.list_page_size = 0;
    EXPECT_EQ(catch_error([&] { S3Storage s(c); }).kind(), ErrorKind::invalid_config);
    c.list_page_size = 1000;
    c.read_buffer_size = 0;
    EXPECT_EQ(catch_error([&] { S3Storage s(c); }).kind(), ErrorKind::invalid_config);
}

} // namespace
