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
#include "test_support.hpp"

namespace {

using convoy::Error;
using convoy::ErrorKind;
using convoy::ObjectUpload;
using convoy::S3Config;
using convoy::S3Storage;
using convoy::test::FakeHttpServer;
using convoy::test::FakeRequest;
using convoy::test::FakeResponse;
namespace http = convoy::http;
namespace crypto = convoy::crypto;
namespace sigv4 = convoy::sigv4;

const char access_key[] = "AKIDUNITTEST";
const char secret_key[] = "unit/secret+KEY=value";

std::map<std::string, std::string> parse_query(const std::string &q) {
    std::map<std::string, std::string> out;
    size_t pos = 0;
    while (pos < q.size()) {
        size_t amp = q.find('&', pos);
        if (amp == std::string::npos)
            amp = q.size();
        std::string item = q.substr(pos, amp - pos);
        size_t eq = item.find('=');
        out[http::percent_decode(item.substr(0, eq))] =
            eq == std::string::npos ? "" : http::percent_decode(item.substr(eq + 1));
        pos = amp + 1;
    }
    return out;
}

FakeResponse s3_error(int status, const std::string &code, const std::string &message) {
    FakeResponse r;
    r.status = status;
    r.body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>" + code + "</Code><Message>" +
             message + "</Message></Error>";
    return r;
}

// An in-memory S3 that verifies signatures like the real one.
class FakeS3 {
public:
    std::string secret = secret_key;
    std::string expect_token;
    std::function<std::optional<FakeResponse>(const FakeRequest &, int part)> inject;

    std::map<std::string, std::string> objects; // decoded path -> bytes
    std::map<std::string, std::string> content_types;
    std::map<std::string, std::map<int, std::string>> uploads; // upload id -> parts
    std::vector<std::string> aborted;
    std::vector<std::string> log; // "PUT", "CREATE", "PART n", "COMPLETE", "ABORT"
    std::vector<std::string> failures;
    std::mutex mutex;
    int next_id = 1;

    FakeResponse handle(const FakeRequest &req) {
        std::lock_guard<std::mutex> lock(mutex);
        std::string why = verify(req);
        if (!why.empty()) {
            failures.push_back(why);
            return s3_error(403, "SignatureDoesNotMatch",
                            "The request signature we calculated does not match the signature "
                            "you provided. Check your key and signing method.");
        }
        auto q = parse_query(req.query);
        std::string path = http::percent_decode(req.path);
        int part = q.count("partNumber") ? std::stoi(q["partNumber"]) : 0;
        if (inject) {
            if (auto r = inject(req, part)) {
                log.push_back(part > 0 ? "PART " + std::to_string(part) : "INJECTED");
                return *r;
            }
        }
        FakeResponse r;
        if (req.method == "PUT" && q.empty()) {
            log.push_back("PUT");
            objects[path] = req.body;
            content_types[path] = req.header_or("Content-Type");
            r.headers = {{"ETag", "\"" + crypto::hex(crypto::md5(req.body)) + "\""}};
        } else if (req.method == "POST" && q.count("uploads")) {
            log.push_back("CREATE");
            std::string id = "upload+id/" + std::to_string(next_id++) + "=";
            uploads[id];
            content_types[path] = req.header_or("Content-Type");
            r.body = "<InitiateMultipartUploadResult><UploadId>" + http::xml_escape(id) +
                     "</UploadId></InitiateMultipartUploadResult>";
        } else if (req.method == "PUT" && part > 0) {
            log.push_back("PART " + std::to_string(part));
            if (!uploads.count(q["uploadId"]))
                return s3_error(404, "NoSuchUpload", "The specified upload does not exist.");
            uploads[q["uploadId"]][part] = req.body;
            r.headers = {{"ETag", "\"" + crypto::hex(crypto::md5(req.body)) + "\""}};
        } else if (req.method == "POST" && q.count("uploadId")) {
            log.push_back("COMPLETE");
            auto it = uploads.find(q["uploadId"]);
            if (it == uploads.end())
                return s3_error(404, "NoSuchUpload", "The specified upload does not exist.");
            std::string assembled, rest = req.body;
            int expected = 1;
            while (auto number = http::xml_element_text(rest, "PartNumber")) {
                auto etag = http::xml_element_text(rest, "ETag");
                int n = std::stoi(*number);
                if (n != expected++ || !it->second.count(n) ||
                    *etag != "\"" + crypto::hex(crypto::md5(it->second[n])) + "\"")
                    return s3_error(400, "InvalidPart",
                                    "One or more of the specified parts "
                                    "could not be found.");
                assembled += it->second[n];
                rest = rest.substr(rest.find("</Part>") + 7);
            }
            objects[path] = assembled;
            uploads.erase(it);
            r.body = "<CompleteMultipartUploadResult><ETag>\"x-2\"</ETag>"
                     "</CompleteMultipartUploadResult>";
        } else if (req.method == "DELETE" && q.count("uploadId")) {
            log.push_back("ABORT");
            aborted.push_back(q["uploadId"]);
            uploads.erase(q["uploadId"]);
            r.status = 204;
        } else {
            return s3_error(400, "InvalidRequest", "unexpected request");
        }
        return r;
    }

private:
    // Recomputes the signature from the received request; returns why it is
    // wrong, or "" when it is right.
    std::string verify(const FakeRequest &req) {
        std::string auth = req.header_or("Authorization");
        std::string prefix = std::string("AWS4-HMAC-SHA256 Credential=") + access_key + "/";
        if (auth.rfind(prefix, 0) != 0)
            return "bad credential in " + auth;
        size_t sh = auth.find("SignedHeaders="), sg = auth.find("Signature=");
        std::string scope = auth.substr(prefix.size(), auth.find(',') - prefix.size());
        std::string signed_headers = auth.substr(sh + 14, auth.find(',', sh) - sh - 14);
        std::string signature = auth.substr(sg + 10);
        std::string date = req.header_or("x-amz-date");
        std::string region = scope.substr(9, scope.find('/', 9) - 9);

        sigv4::Request s;
        s.method = req.method;
        s.path = http::percent_decode(req.path);
        for (const auto &[k, v] : parse_query(req.query))
            s.query.emplace_back(k, v);
        size_t pos = 0;
        while (pos <= signed_headers.size()) {
            size_t semi = signed_headers.find(';', pos);
            if (semi == std::string::npos)
                semi = signed_headers.size();
            std::string name = signed_headers.substr(pos, semi - pos);
            const std::string *v = req.header(name);
            if (v == nullptr)
                return "signed header missing: " + name;
            s.headers.emplace_back(name, *v);
            pos = semi + 1;
        }
        for (const char *required : {"host", "x-amz-content-sha256", "x-amz-date"})
            if (("; " + signed_headers + ";").find(std::string(";") + required + ";") ==
                    std::string::npos &&
                signed_headers.rfind(required, 0) != 0)
                return std::string("not signed: ") + required;
        if (!req.body.empty() && signed_headers.find("content-md5") == std::string::npos)
            return "content-md5 not signed";
        s.payload_hash = req.header_or("x-amz-content-sha256");
        if (s.payload_hash != crypto::hex(crypto::sha256(req.body)))
            return "payload hash mismatch";
        if (const std::string *md5 = req.header("Content-MD5"))
            if (*md5 != crypto::base64(crypto::md5(req.body)))
                return "content-md5 mismatch";
        if (req.header_or("x-amz-security-token") != expect_token)
            return "session token mismatch";
        sigv4::Signature want =
            sigv4::sign(s, {access_key, secret, expect_token}, region, "s3", date);
        if (want.signature != signature)
            return "signature mismatch; canonical request:\n" + want.canonical_request;
        return "";
    }
};

struct S3Fixture : ::testing::Test {
    FakeS3 s3;
    FakeHttpServer server{[this](const FakeRequest &r) { return s3.handle(r); }};

    S3Config config(size_t part_size = 1024) {
        S3Config c;
        c.bucket = "backups";
        c.region = "eu-west-1";
        c.endpoint = server.url();
        c.access_key = access_key;
        c.secret_key = secret_key;
        c.prefix = "/cluster-a/";
        c.part_size = part_size;
        c.allow_small_parts = true;
        c.http.retry.max_retries = 2;
        c.http.retry.base_delay_ms = 1;
        c.http.retry.max_delay_ms = 2;
        return c;
    }

    void TearDown() override {
        for (const std::string &f : s3.failures)
            ADD_FAILURE() << "server-side check failed: " << f;
    }
};

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
