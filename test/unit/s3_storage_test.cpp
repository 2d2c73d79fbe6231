// S3Storage against a scripted S3 on loopback that checks every request's
// SigV4 signature (recomputed from what arrived on the wire), payload hash and
// Content-MD5, and keeps objects and multipart uploads in memory.
#include "core/storage/s3/s3_storage.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/storage/http/parted_upload.hpp"
#include "core/storage/http/url.hpp"
#include "core/storage/http/xml.hpp"
#include "core/storage/sign/crypto.hpp"
#include "core/storage/sign/sigv4.hpp"
#include "fake_http_server.hpp"
#include "fake_s3.hpp"
#include "test_support.hpp"

namespace {

using convoy::Error;
using convoy::ErrorKind;
using convoy::ObjectUpload;
using convoy::S3Config;
using convoy::S3Storage;
using convoy::test::access_key;
using convoy::test::FakeHttpServer;
using convoy::test::FakeRequest;
using convoy::test::FakeResponse;
using convoy::test::FakeS3;
using convoy::test::s3_error;
using convoy::test::S3Fixture;
using convoy::test::secret_key;
namespace http = convoy::http;
namespace crypto = convoy::crypto;
namespace sigv4 = convoy::sigv4;

void put(ObjectUpload &up, const std::string &bytes, size_t piece = 0) {
    if (piece == 0)
        piece = bytes.size() ? bytes.size() : 1;
    for (size_t off = 0; off < bytes.size(); off += piece) {
        size_t n = std::min(piece, bytes.size() - off);
        up.write(reinterpret_cast<const uint8_t *>(bytes.data() + off), n);
    }
}

using convoy::test::catch_error;

const char colon_key[] = "backup/2024-05-01/events/2024-05-01T12:00:00Z.jsonl.gz";
const char colon_path[] =
    "/backups/cluster-a/backup/2024-05-01/events/2024-05-01T12:00:00Z.jsonl.gz";

TEST_F(S3Fixture, SmallObjectIsOnePutWithContentMd5) {
    S3Storage storage(config());
    auto up = storage.begin_upload(colon_key);
    std::string data = convoy::test::sample_rows(700);
    put(*up, data, 100);
    up->commit();
    EXPECT_EQ(s3.log, (std::vector<std::string>{"PUT"}));
    EXPECT_EQ(s3.objects[colon_path], data);
    EXPECT_EQ(s3.content_types[colon_path], "application/gzip");
    auto reqs = server.requests();
    ASSERT_EQ(reqs.size(), 1u);
    // Path style (the endpoint is an IP address); ':' sent as %3A, as signed.
    EXPECT_EQ(reqs[0].target,
              "/backups/cluster-a/backup/2024-05-01/events/2024-05-01T12%3A00%3A00Z.jsonl.gz");
    EXPECT_EQ(reqs[0].header_or("Host"), "127.0.0.1:" + std::to_string(server.port()));
    EXPECT_EQ(reqs[0].header_or("Content-MD5"), crypto::base64(crypto::md5(data)));
    EXPECT_NE(reqs[0].header_or("Authorization").find("/eu-west-1/s3/aws4_request"),
              std::string::npos);
}

TEST_F(S3Fixture, ExactlyOnePartIsStillASinglePut) {
    S3Storage storage(config(1024));
    auto up = storage.begin_upload("k");
    put(*up, std::string(1024, 'a'), 1000);
    up->commit();
    EXPECT_EQ(s3.log, (std::vector<std::string>{"PUT"}));
    EXPECT_EQ(s3.objects["/backups/cluster-a/k"].size(), 1024u);
}

TEST_F(S3Fixture, EmptyObject) {
    S3Storage storage(config());
    auto up = storage.begin_upload("empty");
    up->commit();
    EXPECT_EQ(s3.log, (std::vector<std::string>{"PUT"}));
    ASSERT_TRUE(s3.objects.count("/backups/cluster-a/empty"));
    EXPECT_EQ(s3.objects["/backups/cluster-a/empty"], "");
}

TEST_F(S3Fixture, MultipartUploadInOrder) {
    S3Storage storage(config(1024));
    auto up = storage.begin_upload("date=2024-05-01/a b+c.gz");
    std::string data = convoy::test::random_bytes(2500);
    put(*up, data, 333);
    up->commit();
    EXPECT_EQ(s3.log,
              (std::vector<std::string>{"CREATE", "PART 1", "PART 2", "PART 3", "COMPLETE"}));
    EXPECT_TRUE(s3.objects["/backups/cluster-a/date=2024-05-01/a b+c.gz"] == data);
    EXPECT_EQ(s3.content_types["/backups/cluster-a/date=2024-05-01/a b+c.gz"], "application/gzip");
    EXPECT_TRUE(s3.uploads.empty());
    auto reqs = server.requests();
    ASSERT_EQ(reqs.size(), 5u);
    EXPECT_EQ(reqs[0].target, "/backups/cluster-a/date%3D2024-05-01/a%20b%2Bc.gz?uploads");
    EXPECT_EQ(reqs[1].body.size(), 1024u);
    EXPECT_EQ(reqs[2].body.size(), 1024u);
    EXPECT_EQ(reqs[3].body.size(), 452u);
    EXPECT_EQ(reqs[1].query, "partNumber=1&uploadId=upload%2Bid%2F1%3D");
    EXPECT_NE(reqs[4].body.find("<PartNumber>3</PartNumber>"), std::string::npos);
}

TEST_F(S3Fixture, SessionTokenIsSentAndSigned) {
    s3.expect_token = "session/token+value==";
    S3Config c = config();
    c.session_token = s3.expect_token;
    S3Storage storage(c);
    auto up = storage.begin_upload("k");
    put(*up, "abc");
    up->commit();
    auto reqs = server.requests();
    ASSERT_EQ(reqs.size(), 1u);
    EXPECT_NE(reqs[0].header_or("Authorization").find("x-amz-security-token"), std::string::npos);
}

TEST_F(S3Fixture, WrongSecretFailsFastWithAuthError) {
    s3.secret = "another-secret";
    S3Storage storage(config());
    auto up = storage.begin_upload("k");
    put(*up, "abc");
    Error e = catch_error([&] { up->commit(); });
    s3.failures.clear(); // expected here
    EXPECT_EQ(e.kind(), ErrorKind::storage_auth);
    EXPECT_STREQ(
        e.what(),
        "could not upload s3://backups/cluster-a/k: HTTP status 403 (SignatureDoesNotMatch)");
    EXPECT_EQ(server.request_count(), 1u); // not retried
    EXPECT_EQ(std::string(e.what()).find(secret_key), std::string::npos);
    EXPECT_EQ(e.detail().find(secret_key), std::string::npos);
}

TEST_F(S3Fixture, FailedPartAbortsTheMultipartUpload) {
    s3.inject = [](const FakeRequest &, int part) -> std::optional<FakeResponse> {
        if (part == 2)
            return s3_error(400, "InvalidArgument", "Part 2 is broken.");
        return std::nullopt;
    };
    S3Storage storage(config(1024));
    auto up = storage.begin_upload("k");
    Error e = catch_error([&] { put(*up, std::string(5000, 'z'), 700); });
    EXPECT_EQ(e.kind(), ErrorKind::storage_io);
    EXPECT_STREQ(
        e.what(),
        "could not upload part 2 of s3://backups/cluster-a/k: HTTP status 400 (InvalidArgument)");
    EXPECT_EQ(s3.log, (std::vector<std::string>{"CREATE", "PART 1", "PART 2", "ABORT"}));
    EXPECT_EQ(s3.aborted.size(), 1u);
    EXPECT_TRUE(s3.objects.empty());
    // The upload is finished: more writes are a caller bug, abort is harmless.
    EXPECT_EQ(catch_error([&] { put(*up, "x"); }).kind(), ErrorKind::internal);
    up->abort();
    up.reset();
    EXPECT_EQ(s3.aborted.size(), 1u);
}

TEST_F(S3Fixture, TransientPartFailureIsRetried) {
    std::atomic<int> failures{0};
    s3.inject = [&](const FakeRequest &, int part) -> std::optional<FakeResponse> {
        if (part == 2 && failures++ < 2)
            return s3_error(500, "InternalError", "We encountered an internal error.");
        return std::nullopt;
    };
    S3Storage storage(config(1024));
    auto up = storage.begin_upload("k");
    std::string data = convoy::test::random_bytes(3000);
    put(*up, data);
    up->commit();
    EXPECT_EQ(s3.log, (std::vector<std::string>{"CREATE", "PART 1", "PART 2", "PART 2", "PART 2",
                                                "PART 3", "COMPLETE"}));
    EXPECT_TRUE(s3.objects["/backups/cluster-a/k"] == data);
}

TEST_F(S3Fixture, PersistentServerErrorIsUnavailableAndAborts) {
    s3.inject = [&](const FakeRequest &, int part) -> std::optional<FakeResponse> {
        if (part == 3)
            return s3_error(503, "SlowDown", "Please reduce your request rate.");
        return std::nullopt;
    };
    S3Storage storage(config(1024));
    auto up = storage.begin_upload("k");
    put(*up, std::string(3000, 'q'));
    Error e = catch_error([&] { up->commit(); });
    EXPECT_EQ(e.kind(), ErrorKind::storage_unavailable);
    EXPECT_EQ(e.detail(),
              "The service said: Please reduce your request rate. Gave up after 3 attempts.");
    EXPECT_EQ(s3.log.back(), "ABORT");
}

TEST_F(S3Fixture, CompleteWithErrorBodyFails) {
    s3.inject = [&](const FakeRequest &req, int) -> std::optional<FakeResponse> {
        if (req.method == "POST" && req.query.rfind("uploadId=", 0) == 0) {
            FakeResponse r;
            r.body = "<Error><Code>InternalError</Code><Message>We encountered an internal "
                     "error. Please try again.</Message></Error>";
            return r;
        }
        return std::nullopt;
    };
    S3Storage storage(config(1024));
    auto up = storage.begin_upload("k");
    put(*up, std::string(2000, 'q'));
    Error e = catch_error([&] { up->commit(); });
    EXPECT_EQ(e.kind(), ErrorKind::storage_unavailable);
    EXPECT_STREQ(e.what(), "could not complete the multipart upload of s3://backups/cluster-a/k: "
                           "the service reported InternalError");
    EXPECT_EQ(s3.log,
              (std::vector<std::string>{"CREATE", "PART 1", "PART 2", "INJECTED", "ABORT"}));
}

TEST_F(S3Fixture, AbortAndDestructor) {
    S3Storage storage(config(1024));
    {
        auto up = storage.begin_upload("small");
        put(*up, "only buffered");
        up->abort(); // nothing was sent: nothing to undo
    }
    EXPECT_EQ(server.request_count(), 0u);
    {
        auto up = storage.begin_upload("big");
        put(*up, std::string(1500, 'b'));
        // destroyed without commit
    }
    EXPECT_EQ(s3.log, (std::vector<std::string>{"CREATE", "PART 1", "ABORT"}));
    EXPECT_TRUE(s3.objects.empty());
}

// A query cancel or shutdown makes every request of the storage's client fail
// at once; the upload it stopped is still aborted, by a request that does not
// ask the cancel flag (and has a short time limit of its own instead).
TEST_F(S3Fixture, CanceledUploadIsStillAborted) {
    std::atomic<bool> canceled{false};
    S3Config c = config(1024);
    c.http.canceled = [&] { return canceled.load(); };
    S3Storage storage(c);
    auto up = storage.begin_upload("k");
    put(*up, std::string(1500, 'c')); // part 1 goes out
    canceled = true;
    Error e = catch_error([&] { put(*up, std::string(1000, 'd')); });
    EXPECT_EQ(e.kind(), ErrorKind::storage_io);
    EXPECT_STREQ(e.what(), "could not upload part 2 of s3://backups/cluster-a/k: request canceled");
    EXPECT_EQ(s3.log, (std::vector<std::string>{"CREATE", "PART 1", "ABORT"}));
    EXPECT_EQ(s3.aborted, (std::vector<std::string>{"upload+id/1="}));
    EXPECT_EQ(server.requests().back().target, "/backups/cluster-a/k?uploadId=upload%2Bid%2F1%3D");
}

TEST_F(S3Fixture, VirtualHostedStyle) {
    // libcurl resolves *.localhost to the loopback address by itself.
    S3Config c = config();
    c.endpoint = "http://s3.localhost:" + std::to_string(server.port());
    c.prefix = "";
    S3Storage storage(c);
    auto up = storage.begin_upload("a:b");
    put(*up, "v");
    up->commit();
    auto reqs = server.requests();
    ASSERT_EQ(reqs.size(), 1u);
    EXPECT_EQ(reqs[0].header_or("Host"), "backups.s3.localhost:" + std::to_string(server.port()));
    EXPECT_EQ(reqs[0].target, "/a%3Ab");
    EXPECT_EQ(s3.objects["/a:b"], "v");

    c.force_path_style = true;
    S3Storage path_style(c);
    auto up2 = path_style.begin_upload("a:b");
    put(*up2, "w");
    up2->commit();
    EXPECT_EQ(server.requests().back().target, "/backups/a%3Ab");
}

TEST_F(S3Fixture, UnreachableEndpointIsUnavailable) {
    S3Config c = config();
    c.endpoint = "http://127.0.0.1:" + std::to_string(FakeHttpServer::closed_port());
    S3Storage storage(c);
    auto up = storage.begin_upload("k");
    put(*up, "x");
    Error e = catch_error([&] { up->commit(); });
    EXPECT_EQ(e.kind(), ErrorKind::storage_unavailable);
    EXPECT_EQ(e.detail(), "Gave up after 3 attempts.");
}

TEST(S3Config, Validation) {
    auto base = [] {
        S3Config c;
        c.bucket = "b-1";
        c.access_key = "AKID";
        c.secret_key = "SECRETVALUE";
        c.session_token = "TOKENVALUE";
        return c;
    };
    auto kind_of = [](S3Config c) {
        try {
            S3Storage s(std::move(c));
        } catch (const Error &e) {
            EXPECT_EQ(std::string(e.what()).find("SECRETVALUE"), std::string::npos);
            return e.kind();
        }
        return ErrorKind::internal;
    };
    S3Config c = base();
    c.bucket = "";
    EXPECT_EQ(kind_of(c), ErrorKind::invalid_config);
    c = base();
    c.bucket = "a/b";
    EXPECT_EQ(kind_of(c), ErrorKind::invalid_config);
    c = base();
    c.secret_key = "";
    EXPECT_EQ(kind_of(c), ErrorKind::invalid_config);
    c = base();
    c.part_size = 1024 * 1024; // below 5 MiB without allow_small_parts
    EXPECT_EQ(kind_of(c), ErrorKind::invalid_config);
    c = base();
    c.endpoint = "ftp://x";
    EXPECT_EQ(kind_of(c), ErrorKind::invalid_config);
    c = base();
    c.prefix = "a/../b";
    EXPECT_EQ(kind_of(c), ErrorKind::invalid_config);
    c = base();
    c.region = "eu west";
    EXPECT_EQ(kind_of(c), ErrorKind::invalid_config);

    S3Storage aws(base());
    EXPECT_EQ(aws.describe(), "s3://b-1");
    c = base();
    c.prefix = "//x/y/";
    c.endpoint = "http://127.0.0.1:9000";
    S3Storage custom(c);
    EXPECT_EQ(custom.describe(), "s3://b-1/x/y at http://127.0.0.1:9000");
    // Keys as an operator finds them in the bucket: with the prefix.
    EXPECT_EQ(custom.stored_key("backup/k.jsonl.gz"), "x/y/backup/k.jsonl.gz");
    EXPECT_EQ(aws.stored_key("backup/k.jsonl.gz"), "backup/k.jsonl.gz");
    EXPECT_EQ(custom.describe().find("SECRETVALUE"), std::string::npos);
    EXPECT_EQ(custom.describe().find("TOKENVALUE"), std::string::npos);

    EXPECT_EQ(catch_error([&] { custom.begin_upload("../x"); }).kind(), ErrorKind::invalid_key);
    EXPECT_EQ(catch_error([&] { custom.begin_upload(std::string(1100, 'k')); }).kind(),
              ErrorKind::invalid_key);
}

TEST(PartedUpload, PartSizeGrowsSoPartsNeverRunOut) {
    http::PartLimits s3{S3Storage::min_part_size, S3Storage::max_part_size, S3Storage::max_parts,
                        1000};
    EXPECT_EQ(http::PartedUpload::part_size_for(s3, 1), 5u << 20);
    EXPECT_EQ(http::PartedUpload::part_size_for(s3, 1000), 5u << 20);
    EXPECT_EQ(http::PartedUpload::part_size_for(s3, 1001), 10u << 20);
    EXPECT_EQ(http::PartedUpload::part_size_for(s3, 10000), size_t(5) << 29); // 2.5 GiB
    unsigned long long total = 0;
    for (int n = 1; n <= S3Storage::max_parts; n++)
        total += http::PartedUpload::part_size_for(s3, n);
    // 10,000 parts from the 5 MiB minimum hold 1023/1024 of S3's 5 TiB object
    // limit; from the 8 MiB default, more than the limit.
    EXPECT_EQ(total, (5ull << 20) * 1000 * 1023);
    http::PartLimits big = s3;
    big.part_size = 8u << 20;
    EXPECT_EQ(http::PartedUpload::part_size_for(big, 10000), size_t(4) << 30);
}

} // namespace
