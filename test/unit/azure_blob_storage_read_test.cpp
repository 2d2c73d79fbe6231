// AzureBlobStorage::list() and open_read() against the scripted Blob service
// (fake_azure.hpp), which checks every request's Shared Key signature,
// x-ms-range and If-Match included.
#include "core/storage/azure/azure_blob_storage.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <string>
#include <utility>
#include <vector>

#include "core/error.hpp"
#include "fake_azure.hpp"
#include "test_support.hpp"

namespace {

using convoy::AzureBlobStorage;
using convoy::AzureConfig;
using convoy::Error;
using convoy::ErrorKind;
using convoy::ListedObject;
using convoy::test::AzureFixture;
using convoy::test::catch_error;
using convoy::test::FakeRequest;
using convoy::test::FakeResponse;
using convoy::test::read_all;

using Listing = std::vector<std::pair<std::string, uint64_t>>;

struct AzureRead : AzureFixture {
    void put(AzureBlobStorage &storage, const std::string &key, const std::string &bytes) {
        auto up = storage.begin_upload(key);
        up->write(reinterpret_cast<const uint8_t *>(bytes.data()), bytes.size());
        up->commit();
    }
    Listing list(AzureBlobStorage &storage, const std::string &prefix) {
        Listing out;
        storage.list(prefix, [&](const ListedObject &o) { out.emplace_back(o.key, o.size); });
        return out;
    }
    std::vector<FakeRequest> gets() {
        std::vector<FakeRequest> out;
        for (const FakeRequest &r : server.requests())
            if (r.method == "GET")
                out.push_back(r);
        return out;
    }
    std::map<std::string, std::string> query_of(const FakeRequest &r) {
        auto q = convoy::test::parse_azure_query(r.query);
        return std::map<std::string, std::string>(q.begin(), q.end());
    }
};

const std::vector<std::string> sample_keys = {
    "backup/2024-05-01/convoy.events/2024-05-01T12:00:00Z.jsonl.gz",
    "backup/2024-05-01/convoy.events/2024-05-01T13:00:00Z.jsonl.gz",
    "backup/2024-05-01/convoy.other/2024-05-01T12:00:00Z.jsonl.gz",
    "a%2Fb",
    "a b+c&d<e>",
    "z",
};

TEST_F(AzureRead, ListsEveryPageInByteOrderWithoutThePrefix) {
    AzureConfig c = config();
    c.list_page_size = 2;
    AzureBlobStorage storage(c);
    for (size_t i = 0; i < sample_keys.size(); i++)
        put(storage, sample_keys[i], std::string(i + 1, 'x'));
    az.blobs["/backups/cluster-ab/x"] = "1";
    az.blobs["/backups/cluster-a/dir/"] = "";

    Listing listing = list(storage, "");
    std::vector<std::string> sorted = sample_keys;
    std::sort(sorted.begin(), sorted.end());
    ASSERT_EQ(listing.size(), sorted.size());
    for (size_t i = 0; i < sorted.size(); i++) {
        EXPECT_EQ(listing[i].first, sorted[i]);
        size_t at = std::find(sample_keys.begin(), sample_keys.end(), sorted[i]) - sample_keys.begin();
        EXPECT_EQ(listing[i].second, at + 1) << sorted[i];
    }
    // 7 names under "cluster-a/", 2 a page.
    auto lists = gets();
    ASSERT_EQ(lists.size(), 4u);
    auto q = query_of(lists[0]);
    EXPECT_EQ(q["prefix"], "cluster-a/");
    EXPECT_EQ(q["maxresults"], "2");
    EXPECT_EQ(q.count("marker"), 0u);
    EXPECT_EQ(query_of(lists[1]).count("marker"), 1u);
    EXPECT_EQ(lists[0].path, "/devstoreaccount1/backups");
}

TEST_F(AzureRead, EncodedNamesAreDecoded) {
    az.encode_listed_names = true;
    AzureBlobStorage storage(config());
    for (const std::string &key : sample_keys)
        put(storage, key, "x");
    std::vector<std::string> keys;
    for (const auto &entry : list(storage, ""))
        keys.push_back(entry.first);
    std::vector<std::string> sorted = sample_keys;
    std::sort(sorted.begin(), sorted.end());
    EXPECT_EQ(keys, sorted);
}

TEST_F(AzureRead, KeyPrefixAndEmptyResults) {
    AzureBlobStorage storage(config());
    for (const std::string &key : sample_keys)
        put(storage, key, "x");
    EXPECT_EQ(list(storage, "backup/2024-05-01/convoy.events/").size(), 2u);
    EXPECT_EQ(query_of(gets()[0])["prefix"], "cluster-a/backup/2024-05-01/convoy.events/");
    EXPECT_TRUE(list(storage, "nothing/").empty());
    EXPECT_EQ(list(storage, "a%2F"), (Listing{{"a%2Fb", 1}}));
}

TEST_F(AzureRead, MissingContainerIsNotFound) {
    AzureBlobStorage storage(config());
    Error e = catch_error([&] { list(storage, ""); });
    EXPECT_EQ(e.kind(), ErrorKind::not_found);
    EXPECT_STREQ(e.what(),
                 "could not list azure://devstoreaccount1/backups/cluster-a/: the container "
                 "does not exist");
    // Reading never creates the container.
    EXPECT_EQ(catch_error([&] { storage.open_read("k"); }).kind(), ErrorKind::not_found);
    EXPECT_TRUE(az.containers.empty());
}

TEST_F(AzureRead, ListWithASas) {
    az.expect_sas = true;
    az.containers.insert("backups");
    AzureConfig c = config();
    c.account_key = "";
    c.sas_token = convoy::test::sas;
    AzureBlobStorage storage(c);
    put(storage, "k", "x");
    EXPECT_EQ(list(storage, ""), (Listing{{"k", 1}}));
    auto reader = storage.open_read("k");
    EXPECT_EQ(read_all(*reader), "x");
}

TEST_F(AzureRead, OpenReadStreamsALargeBlob) {
    AzureConfig c = config(1024 * 1024);
    c.read_buffer_size = 8 * 1024;
    AzureBlobStorage storage(c);
    std::string bytes = convoy::test::random_bytes(3 * 1024 * 1024 + 1);
    put(storage, sample_keys[0], bytes);
    auto reader = storage.open_read(sample_keys[0]);
    EXPECT_TRUE(read_all(*reader, 5000) == bytes);
    auto g = gets();
    ASSERT_EQ(g.size(), 1u);
    EXPECT_EQ(g[0].target, "/devstoreaccount1/backups/cluster-a/backup/2024-05-01/convoy.events/"
                           "2024-05-01T12%3A00%3A00Z.jsonl.gz");
}

TEST_F(AzureRead, ListedKeysOpen) {
    AzureConfig c = config();
    c.list_page_size = 4;
    AzureBlobStorage storage(c);
    for (const std::string &key : sample_keys)
        put(storage, key, key);
    for (const auto &[key, size] : list(storage, "")) {
        auto reader = storage.open_read(key);
        EXPECT_EQ(read_all(*reader), key);
        EXPECT_EQ(size, key.size());
    }
}

TEST_F(AzureRead, MissingBlobIsNotFoundUnderItsStoredName) {
    AzureBlobStorage storage(config());
    put(storage, "other", "x");
    Error e = catch_error([&] { storage.open_read("backup/missing.jsonl.gz"); });
    EXPECT_EQ(e.kind(), ErrorKind::not_found);
    EXPECT_EQ(std::string(e.what()),
              "object \"cluster-a/backup/missing.jsonl.gz\" does not exist in "
              "azure://devstoreaccount1/backups/cluster-a at " +
                  server.url() + "/devstoreaccount1");
}

TEST_F(AzureRead, LostConnectionResumesWithASignedRange) {
    AzureBlobStorage storage(config(4 * 1024 * 1024));
    std::string bytes = convoy::test::random_bytes(2 * 1024 * 1024);
    put(storage, "k", bytes);
    bool cut = false;
    az.tamper = [&](const FakeRequest &req, FakeResponse &r) {
        if (req.method == "GET" && !cut) {
            cut = true;
            r.cut_body_at = 123456;
        }
    };
    auto reader = storage.open_read("k");
    EXPECT_TRUE(read_all(*reader) == bytes);
    auto g = gets();
    ASSERT_EQ(g.size(), 2u);
    EXPECT_EQ(g[1].header_or("x-ms-range"), "bytes=123456-");
    EXPECT_EQ(g[1].header_or("If-Match"), convoy::test::FakeAzure::etag_of(bytes));
}

TEST_F(AzureRead, BlobReplacedWhileReadIsAnError) {
    AzureBlobStorage storage(config(4 * 1024 * 1024));
    put(storage, "k", convoy::test::random_bytes(500000));
    az.tamper = [&](const FakeRequest &req, FakeResponse &r) {
        if (req.method == "GET" && req.header("x-ms-range") == nullptr) {
            r.cut_body_at = 1000;
            az.blobs["/backups/cluster-a/k"] = "replaced";
        }
    };
    auto reader = storage.open_read("k");
    Error e = catch_error([&] { read_all(*reader); });
    EXPECT_EQ(e.kind(), ErrorKind::storage_io);
    EXPECT_STREQ(e.what(), "could not read azure://devstoreaccount1/backups/cluster-a/k: the "
                           "object changed while it was read");
}

TEST_F(AzureRead, CanceledRead) {
    std::atomic<bool> canceled{false};
    AzureConfig c = config(4 * 1024 * 1024);
    c.read_buffer_size = 16 * 1024;
    c.http.canceled = [&] { return canceled.load(); };
    AzureBlobStorage storage(c);
    put(storage, "k", convoy::test::random_bytes(2 * 1024 * 1024));
    auto reader = storage.open_read("k");
    uint8_t buf[1000];
    EXPECT_EQ(reader->read(buf, sizeof(buf)), sizeof(buf));
    canceled = true;
    EXPECT_STREQ(catch_error([&] { reader->read(buf, sizeof(buf)); }).what(),
                 "could not read azure://devstoreaccount1/backups/cluster-a/k: request canceled");
}

TEST(AzureReadConfig, PageSizeAndBufferAreChecked) {
    AzureConfig c;
    c.account_name = "acct";
    c.account_key = convoy::test::key_b64;
    c.container = "backups";
    c.list_page_size = 5001;
    EXPECT_EQ(catch_error([&] { AzureBlobStorage s(c); }).kind(), ErrorKind::invalid_config);
    c.list_page_size = 5000;
    c.read_buffer_size = 0;
    EXPECT_EQ(catch_error([&] { AzureBlobStorage s(c); }).kind(), ErrorKind::invalid_config);
}

} // namespace
