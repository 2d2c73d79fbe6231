// AzureBlobStorage against a scripted Blob service on loopback that checks each
// request's Shared Key signature (recomputed from what arrived, with the
// emulator's path-style canonicalized resource), Content-MD5 and block rules.
#include "core/storage/azure/azure_blob_storage.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/storage/http/url.hpp"
#include "core/storage/http/xml.hpp"
#include "core/storage/sign/azure_shared_key.hpp"
#include "core/storage/sign/crypto.hpp"
#include "fake_azure.hpp"
#include "fake_http_server.hpp"
#include "test_support.hpp"

namespace {

using convoy::AzureBlobStorage;
using convoy::AzureConfig;
using convoy::Error;
using convoy::ErrorKind;
using convoy::ObjectUpload;
using convoy::test::account;
using convoy::test::az_error;
using convoy::test::AzureFixture;
using convoy::test::FakeAzure;
using convoy::test::FakeHttpServer;
using convoy::test::FakeRequest;
using convoy::test::FakeResponse;
using convoy::test::key_b64;
using convoy::test::listed_block_ids;
using convoy::test::parse_azure_query;
using convoy::test::sas;
namespace http = convoy::http;
namespace crypto = convoy::crypto;
namespace az = convoy::azure_sign;

void put(ObjectUpload &up, const std::string &bytes, size_t piece = 0) {
    if (piece == 0)
        piece = bytes.size() ? bytes.size() : 1;
    for (size_t off = 0; off < bytes.size(); off += piece)
        up.write(reinterpret_cast<const uint8_t *>(bytes.data() + off),
                 std::min(piece, bytes.size() - off));
}

using convoy::test::catch_error;

// The block ids that the Put Block requests reqs[from, to) sent, in order.
std::vector<std::string> block_ids_sent(const std::vector<FakeRequest> &reqs, size_t from,
                                        size_t to) {
    std::vector<std::string> ids;
    for (size_t i = from; i < to; i++)
        for (const auto &[name, value] : parse_azure_query(reqs[i].query))
            if (name == "blockid")
                ids.push_back(value);
    return ids;
}


const char colon_key[] = "backup/2024-05-01/events/2024-05-01T12:00:00Z.jsonl.gz";
const char colon_blob[] =
    "/backups/cluster-a/backup/2024-05-01/events/2024-05-01T12:00:00Z.jsonl.gz";

TEST_F(AzureFixture, SmallObjectCreatesContainerThenPutBlob) {
    AzureBlobStorage storage(config());
    auto up = storage.begin_upload(colon_key);
    std::string data = convoy::test::sample_rows(600);
    put(*up, data, 50);
    up->commit();
    EXPECT_EQ(az.log, (std::vector<std::string>{"CREATE CONTAINER", "PUT BLOB"}));
    EXPECT_EQ(az.blobs[colon_blob], data);
    EXPECT_EQ(az.blob_types[colon_blob], "application/gzip");
    auto reqs = server.requests();
    ASSERT_EQ(reqs.size(), 2u);
    EXPECT_EQ(reqs[0].target, "/devstoreaccount1/backups?restype=container");
    EXPECT_EQ(reqs[1].target, "/devstoreaccount1/backups/cluster-a/backup/2024-05-01/events/"
                              "2024-05-01T12%3A00%3A00Z.jsonl.gz");
    EXPECT_EQ(reqs[1].header_or("x-ms-version"), "2021-08-06");

    // The container is created once per storage object.
    auto again = storage.begin_upload("second");
    put(*again, "x");
    again->commit();
    EXPECT_EQ(az.log.size(), 3u);
}

TEST_F(AzureFixture, ExistingContainerIsFine) {
    az.containers.insert("backups");
    AzureBlobStorage storage(config());
    auto up = storage.begin_upload("k");
    put(*up, "v");
    up->commit();
    EXPECT_EQ(az.log, (std::vector<std::string>{"CREATE CONTAINER", "PUT BLOB"}));
    EXPECT_EQ(az.blobs["/backups/cluster-a/k"], "v");
}

TEST_F(AzureFixture, LargeObjectUsesBlocks) {
    AzureBlobStorage storage(config(1000));
    auto up = storage.begin_upload("date=2024-05-01/a b.jsonl");
    std::string data = convoy::test::random_bytes(2345);
    put(*up, data, 123);
    up->commit();
    auto reqs = server.requests();
    std::vector<std::string> ids = block_ids_sent(reqs, 0, reqs.size());
    ASSERT_EQ(ids.size(), 3u);
    EXPECT_EQ(az.log, (std::vector<std::string>{"CREATE CONTAINER", "BLOCK " + ids[0],
                                                "BLOCK " + ids[1], "BLOCK " + ids[2],
                                                "BLOCKLIST"}));
    EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()).size(), 3u);
    EXPECT_EQ(listed_block_ids(reqs.back()), ids);
    EXPECT_TRUE(az.blobs["/backups/cluster-a/date=2024-05-01/a b.jsonl"] == data);
    EXPECT_EQ(az.blob_types["/backups/cluster-a/date=2024-05-01/a b.jsonl"],
              "application/x-ndjson");
    EXPECT_EQ(reqs[1].query, "comp=block&blockid=" + http::percent_encode(ids[0], false));
    EXPECT_EQ(reqs[1].path, "/devstoreaccount1/backups/cluster-a/date%3D2024-05-01/a%20b.jsonl");
}

// A manual export may write the window the runner is writing at the same time:
// each upload names its blocks with ids of its own, so the block list one
// commits never takes a block of the other's gzip stream.
TEST_F(AzureFixture, OverlappingUploadsOfOneBlobShareNoBlockIds) {
    AzureBlobStorage storage(config(1000));
    std::string first_data = convoy::test::random_bytes(2500, 1);
    std::string second_data = convoy::test::random_bytes(1500, 2);
    auto first = storage.begin_upload("k");
    auto second = storage.begin_upload("k");
    put(*first, first_data.substr(0, 2100)); // blocks 1 and 2
    size_t first_started = server.request_count();
    put(*second, second_data); // its block 1
    size_t second_started = server.request_count();
    put(*first, first_data.substr(2100));
    first->commit(); // block 3 and the block list
    second->abort();

    EXPECT_TRUE(az.blobs["/backups/cluster-a/k"] == first_data);
    auto reqs = server.requests();
    std::vector<std::string> first_ids = block_ids_sent(reqs, 0, first_started);
    std::vector<std::string> second_ids = block_ids_sent(reqs, first_started, second_started);
    for (const std::string &id : block_ids_sent(reqs, second_started, reqs.size()))
        first_ids.push_back(id);
    ASSERT_EQ(first_ids.size(), 3u);
    ASSERT_EQ(second_ids.size(), 1u);
    EXPECT_EQ(listed_block_ids(reqs.back()), first_ids);
    for (const std::string &id : second_ids)
        EXPECT_EQ(std::count(first_ids.begin(), first_ids.end(), id), 0) << id;
    // Azure wants the ids of one blob to be of one length, at most 64 bytes.
    for (const std::string &id : first_ids) {
        EXPECT_EQ(id.size(), second_ids[0].size()) << id;
        EXPECT_LE(crypto::base64_decode(id).value().size(), 64u) << id;
    }
}

TEST_F(AzureFixture, SasTokenInsteadOfKey) {
    az.expect_sas = true;
    AzureConfig c = config(1000);
    c.account_key.clear();
    c.sas_token = std::string("?") + sas;
    AzureBlobStorage storage(c);
    auto up = storage.begin_upload("k");
    std::string data(1500, 's');
    put(*up, data);
    up->commit();
    EXPECT_TRUE(az.blobs["/backups/cluster-a/k"] == data);
    auto reqs = server.requests();
    ASSERT_EQ(reqs.size(), 4u);
    EXPECT_EQ(reqs[0].query, std::string("restype=container&") + sas);
    EXPECT_EQ(reqs[3].query, std::string("comp=blocklist&") + sas);
    EXPECT_EQ(storage.describe().find("sig"), std::string::npos);
}

TEST_F(AzureFixture, SasThatCannotCreateContainersStillUploads) {
    az.expect_sas = true;
    az.containers.insert("backups");
    az.inject = [](const FakeRequest &req) -> std::optional<FakeResponse> {
        if (req.query.rfind("restype=container", 0) == 0)
            return az_error(
                403, "AuthorizationPermissionMismatch",
                "This request is not authorized to perform this operation using this permission.");
        return std::nullopt;
    };
    AzureConfig c = config();
    c.account_key.clear();
    c.sas_token = sas;
    AzureBlobStorage storage(c);
    auto up = storage.begin_upload("k");
    put(*up, "v");
    up->commit();
    EXPECT_EQ(az.blobs["/backups/cluster-a/k"], "v");
}

TEST_F(AzureFixture, WrongKeyIsAnAuthErrorNotRetried) {
    az.key = "not the key";
    AzureBlobStorage storage(config());
    auto up = storage.begin_upload("k");
    put(*up, "v");
    Error e = catch_error([&] { up->commit(); });
    az.failures.clear();
    EXPECT_EQ(e.kind(), ErrorKind::storage_auth);
    EXPECT_STREQ(e.what(), "could not create container \"backups\" in azure://devstoreaccount1: "
                           "HTTP status 403 (AuthenticationFailed)");
    EXPECT_EQ(e.detail(), "The service said: Server failed to authenticate the request. Make sure "
                          "the value of Authorization header is formed correctly including the "
                          "signature.");
    EXPECT_EQ(server.request_count(), 1u);
}

TEST_F(AzureFixture, FailedBlockFailsTheUpload) {
    std::string first_block;
    az.inject = [&](const FakeRequest &req) -> std::optional<FakeResponse> {
        if (req.query.rfind("comp=block&", 0) != 0)
            return std::nullopt;
        if (first_block.empty())
            first_block = req.query;
        if (req.query != first_block)
            return az_error(500, "InternalError", "The server encountered an internal error.");
        return std::nullopt;
    };
    AzureBlobStorage storage(config(1000));
    auto up = storage.begin_upload("k");
    put(*up, std::string(1500, 'a'));
    Error e = catch_error([&] { put(*up, std::string(1000, 'b')); });
    EXPECT_EQ(e.kind(), ErrorKind::storage_unavailable);
    EXPECT_STREQ(e.what(),
                 "could not upload block 2 of azure://devstoreaccount1/backups/cluster-a/k: "
                 "HTTP status 500 (InternalError)");
    EXPECT_EQ(e.detail(), "The service said: The server encountered an internal error. "
                          "Gave up after 3 attempts.");
    EXPECT_TRUE(az.blobs.empty());
}

TEST(AzureConfigTest, Validation) {
    auto base = [] {
        AzureConfig c;
        c.account_name = "acct1";
        c.account_key = key_b64;
        c.container = "backups";
        return c;
    };
    auto kind_of = [](AzureConfig c) {
        try {
            AzureBlobStorage s(std::move(c));
        } catch (const Error &e) {
            EXPECT_EQ(std::string(e.what()).find(key_b64), std::string::npos);
            EXPECT_EQ(e.detail().find(key_b64), std::string::npos);
            return e.kind();
        }
        return ErrorKind::internal;
    };
    AzureConfig c = base();
    c.account_name = "";
    EXPECT_EQ(kind_of(c), ErrorKind::invalid_config);
    c = base();
    c.container = "Bad_Name";
    EXPECT_EQ(kind_of(c), ErrorKind::invalid_config);
    c = base();
    c.container = "ab";
    EXPECT_EQ(kind_of(c), ErrorKind::invalid_config);
    c = base();
    c.account_key = "not base64!";
    EXPECT_EQ(kind_of(c), ErrorKind::invalid_config);
    c = base();
    c.sas_token = sas; // both
    EXPECT_EQ(kind_of(c), ErrorKind::invalid_config);
    c = base();
    c.account_key.clear(); // neither
    EXPECT_EQ(kind_of(c), ErrorKind::invalid_config);
    c = base();
    c.account_key.clear();
    c.sas_token = "sv=2021-08-06&sp=rw"; // no sig
    EXPECT_EQ(kind_of(c), ErrorKind::invalid_config);
    c = base();
    c.block_size = 0;
    EXPECT_EQ(kind_of(c), ErrorKind::invalid_config);

    AzureBlobStorage prod(base());
    EXPECT_EQ(prod.describe(), "azure://acct1/backups");
    c = base();
    c.prefix = "a/b/";
    c.endpoint = "http://127.0.0.1:10000/acct1";
    AzureBlobStorage emu(c);
    EXPECT_EQ(emu.describe(), "azure://acct1/backups/a/b at http://127.0.0.1:10000/acct1");
    EXPECT_EQ(emu.stored_key("backup/k.jsonl.gz"), "a/b/backup/k.jsonl.gz");
    EXPECT_EQ(prod.stored_key("backup/k.jsonl.gz"), "backup/k.jsonl.gz");
}

} // namespace
