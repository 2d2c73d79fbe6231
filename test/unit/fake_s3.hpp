// A scripted S3 on loopback for the S3Storage unit tests: it checks every
// request's SigV4 signature (recomputed from what arrived on the wire), payload
// hash and Content-MD5, and keeps objects and multipart uploads in memory;
// GetObject (with Range and If-Match) and ListObjectsV2 (pages, prefix,
// continuation tokens, URL-encoded keys as S3 encodes them) read them back.
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/storage/http/url.hpp"
#include "core/storage/http/xml.hpp"
#include "core/storage/s3/s3_storage.hpp"
#include "core/storage/sign/crypto.hpp"
#include "core/storage/sign/sigv4.hpp"
#include "fake_http_server.hpp"

namespace convoy::test {

namespace s3_fake {
namespace http = convoy::http;
namespace crypto = convoy::crypto;
namespace sigv4 = convoy::sigv4;
using convoy::S3Config;
} // namespace s3_fake
using namespace s3_fake;

const char access_key[] = "AKIDUNITTEST";
const char secret_key[] = "unit/secret+KEY=value";

inline std::map<std::string, std::string> parse_s3_query(const std::string &q) {
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

inline FakeResponse s3_error(int status, const std::string &code, const std::string &message) {
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
    // Called with every reply the fake made itself, to cut or alter it.
    std::function<void(const FakeRequest &, FakeResponse &)> tamper;
    // False: list keys as they are whatever encoding-type asks, as s3rver does.
    bool honour_encoding_type = true;

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
        auto q = parse_s3_query(req.query);
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
        } else if (req.method == "GET" && q.count("list-type")) {
            log.push_back("LIST");
            r = list(path, q);
        } else if (req.method == "GET" && q.empty()) {
            log.push_back("GET");
            r = get(path, req);
        } else {
            return s3_error(400, "InvalidRequest", "unexpected request");
        }
        if (tamper)
            tamper(req, r);
        return r;
    }

    static std::string etag_of(const std::string &bytes) {
        return "\"" + crypto::hex(crypto::md5(bytes)) + "\"";
    }

private:
    FakeResponse get(const std::string &path, const FakeRequest &req) {
        auto it = objects.find(path);
        if (it == objects.end())
            return s3_error(404, "NoSuchKey", "The specified key does not exist.");
        const std::string &bytes = it->second;
        FakeResponse r;
        std::string etag = etag_of(bytes);
        r.headers = {{"ETag", etag}, {"Accept-Ranges", "bytes"}};
        if (const std::string *match = req.header("If-Match"))
            if (*match != etag)
                return s3_error(412, "PreconditionFailed",
                                "At least one of the pre-conditions you specified did not hold");
        std::string range = req.header_or("Range");
        if (range.empty()) {
            r.body = bytes;
            return r;
        }
        size_t from = std::stoull(range.substr(6)); // "bytes=N-"
        if (range.compare(0, 6, "bytes=") != 0 || range.back() != '-' || from >= bytes.size())
            return s3_error(416, "InvalidRange", "The requested range is not satisfiable");
        r.status = 206;
        r.body = bytes.substr(from);
        r.headers.push_back({"Content-Range", "bytes " + std::to_string(from) + "-" +
                                                  std::to_string(bytes.size() - 1) + "/" +
                                                  std::to_string(bytes.size())});
        return r;
    }

    // ListObjectsV2 of the bucket at path ("/backups"), names in byte order.
    FakeResponse list(const std::string &path, std::map<std::string, std::string> &q) {
        std::string bucket = path.substr(0, path.find('/', 1));
        std::string prefix = q["prefix"];
        size_t max_keys = q.count("max-keys") ? std::stoul(q["max-keys"]) : 1000;
        bool url = honour_encoding_type && q["encoding-type"] == "url";
        std::string after;
        if (q.count("continuation-token")) {
            auto decoded = crypto::base64_decode(q["continuation-token"]);
            if (!decoded || decoded->compare(0, 6, "after:") != 0)
                return s3_error(400, "InvalidArgument", "The continuation token provided is incorrect");
            after = decoded->substr(6);
        }
        std::string contents, last;
        size_t count = 0;
        bool truncated = false;
        for (const auto &[object_path, bytes] : objects) {
            if (object_path.compare(0, bucket.size() + 1, bucket + "/") != 0)
                continue;
            std::string name = object_path.substr(bucket.size() + 1);
            if (name.compare(0, prefix.size(), prefix) != 0 || (!after.empty() && name <= after))
                continue;
            if (count == max_keys) {
                truncated = true;
                break;
            }
            std::string shown = http::xml_escape(name);
            if (url) { // as S3 encodes: percent-encoding, a space as '+'
                shown = http::percent_encode(name, true);
                for (size_t at; (at = shown.find("%20")) != std::string::npos;)
                    shown.replace(at, 3, "+");
            }
            contents += "<Contents><Key>" + shown +
                        "</Key><LastModified>2024-05-01T12:00:00.000Z</LastModified><ETag>" +
                        http::xml_escape(etag_of(bytes)) + "</ETag><Size>" +
                        std::to_string(bytes.size()) +
                        "</Size><StorageClass>STANDARD</StorageClass></Contents>";
            last = name;
            count++;
        }
        FakeResponse r;
        r.body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ListBucketResult "
                 "xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Name>" +
                 bucket.substr(1) + "</Name><Prefix>" + http::xml_escape(prefix) +
                 "</Prefix><KeyCount>" + std::to_string(count) + "</KeyCount><MaxKeys>" +
                 std::to_string(max_keys) + "</MaxKeys>" +
                 (url ? "<EncodingType>url</EncodingType>" : "") + "<IsTruncated>" +
                 (truncated ? "true" : "false") + "</IsTruncated>" + contents +
                 (truncated ? "<NextContinuationToken>" + crypto::base64("after:" + last) +
                                  "</NextContinuationToken>"
                            : "") +
                 "</ListBucketResult>";
        return r;
    }

public:

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
        for (const auto &[k, v] : parse_s3_query(req.query))
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

} // namespace convoy::test
