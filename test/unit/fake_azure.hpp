// A scripted Blob service on loopback for the AzureBlobStorage unit tests: it
// checks each request's Shared Key signature (recomputed from what arrived,
// with the emulator's path-style canonicalized resource), Content-MD5 and block
// rules, keeps blobs in memory, and reads them back: Get Blob (with x-ms-range
// and If-Match) and List Blobs (pages by marker, prefix).
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/storage/azure/azure_blob_storage.hpp"
#include "core/storage/http/url.hpp"
#include "core/storage/http/xml.hpp"
#include "core/storage/sign/azure_shared_key.hpp"
#include "core/storage/sign/crypto.hpp"
#include "fake_http_server.hpp"

namespace convoy::test {

namespace azure_fake {
namespace http = convoy::http;
namespace crypto = convoy::crypto;
namespace az = convoy::azure_sign;
using convoy::AzureBlobStorage;
using convoy::AzureConfig;
} // namespace azure_fake
using namespace azure_fake;

const char account[] = "devstoreaccount1";
const char key_b64[] =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
const char sas[] =
    "sv=2021-08-06&ss=b&srt=co&sp=rwc&se=2099-01-01T00%3A00%3A00Z&sig=U0lHTkFUVVJF%3D";

inline std::vector<std::pair<std::string, std::string>> parse_azure_query(const std::string &q) {
    std::vector<std::pair<std::string, std::string>> out;
    size_t pos = 0;
    while (pos < q.size()) {
        size_t amp = q.find('&', pos);
        if (amp == std::string::npos)
            amp = q.size();
        std::string item = q.substr(pos, amp - pos);
        size_t eq = item.find('=');
        out.emplace_back(http::percent_decode(item.substr(0, eq)),
                         eq == std::string::npos ? "" : http::percent_decode(item.substr(eq + 1)));
        pos = amp + 1;
    }
    return out;
}

inline FakeResponse az_error(int status, const std::string &code, const std::string &message) {
    FakeResponse r;
    r.status = status;
    r.headers = {{"x-ms-error-code", code}};
    r.body = "<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>" + code + "</Code><Message>" +
             message + "\nRequestId:0\nTime:now</Message></Error>";
    return r;
}

// The block ids a Put Block List request commits, in order.
inline std::vector<std::string> listed_block_ids(const FakeRequest &req) {
    std::vector<std::string> ids;
    std::string rest = req.body;
    while (auto id = http::xml_element_text(rest, "Latest")) {
        ids.push_back(*id);
        rest = rest.substr(rest.find("</Latest>") + 9);
    }
    return ids;
}

class FakeAzure {
public:
    std::string key = crypto::base64_decode(key_b64).value();
    bool expect_sas = false;
    std::set<std::string> containers;
    std::map<std::string, std::string> blobs; // "/container/decoded-name" -> bytes
    std::map<std::string, std::string> blob_types;
    std::map<std::string, std::map<std::string, std::string>> uncommitted;
    std::vector<std::string> log;
    std::vector<std::string> failures;
    std::function<std::optional<FakeResponse>(const FakeRequest &)> inject;
    // Called with every reply the fake made itself, to cut or alter it.
    std::function<void(const FakeRequest &, FakeResponse &)> tamper;
    // List names as the service does names XML cannot carry: percent-encoded,
    // with Encoded="true".
    bool encode_listed_names = false;
    std::mutex mutex;

    FakeResponse handle(const FakeRequest &req) {
        std::lock_guard<std::mutex> lock(mutex);
        auto q = parse_azure_query(req.query);
        std::map<std::string, std::string> qm(q.begin(), q.end());
        std::string why = verify(req, q);
        if (!why.empty()) {
            failures.push_back(why);
            return az_error(403, "AuthenticationFailed",
                            "Server failed to authenticate the request. Make sure the value of "
                            "Authorization header is formed correctly including the signature.");
        }
        if (inject)
            if (auto r = inject(req))
                return *r;
        // Path: /devstoreaccount1/container[/blob]
        std::string prefix = std::string("/") + account + "/";
        if (req.path.rfind(prefix, 0) != 0)
            return az_error(400, "InvalidUri", "bad path");
        std::string rest = req.path.substr(prefix.size());
        size_t slash = rest.find('/');
        std::string container = rest.substr(0, slash);
        std::string blob =
            slash == std::string::npos ? "" : http::percent_decode(rest.substr(slash + 1));
        FakeResponse r;
        r.status = 201;
        if (req.method == "PUT" && qm["restype"] == "container") {
            log.push_back("CREATE CONTAINER");
            if (!containers.insert(container).second)
                return az_error(409, "ContainerAlreadyExists",
                                "The specified container already exists.");
            return r;
        }
        if (!containers.count(container))
            return az_error(404, "ContainerNotFound", "The specified container does not exist.");
        std::string name = "/" + container + "/" + blob;
        if (req.method == "PUT" && qm.count("comp") && qm["comp"] == "block") {
            log.push_back("BLOCK " + qm["blockid"]);
            auto &blocks = uncommitted[name];
            if (!blocks.empty() && blocks.begin()->first.size() != qm["blockid"].size())
                return az_error(400, "InvalidBlobOrBlock", "ids differ in length");
            if (!crypto::base64_decode(qm["blockid"]))
                return az_error(400, "InvalidQueryParameterValue", "bad block id");
            blocks[qm["blockid"]] = req.body;
        } else if (req.method == "PUT" && qm.count("comp") && qm["comp"] == "blocklist") {
            log.push_back("BLOCKLIST");
            std::string out;
            for (const std::string &id : listed_block_ids(req)) {
                auto it = uncommitted[name].find(id);
                if (it == uncommitted[name].end())
                    return az_error(400, "InvalidBlockList", "unknown block");
                out += it->second;
            }
            blobs[name] = out;
            blob_types[name] = req.header_or("x-ms-blob-content-type");
            uncommitted.erase(name);
        } else if (req.method == "PUT" && q.empty()) {
            log.push_back("PUT BLOB");
            if (req.header_or("x-ms-blob-type") != "BlockBlob")
                return az_error(400, "MissingRequiredHeader", "x-ms-blob-type");
            blobs[name] = req.body;
            blob_types[name] = req.header_or("Content-Type");
        } else if (req.method == "GET" && qm["restype"] == "container" && qm["comp"] == "list") {
            log.push_back("LIST");
            r = list(container, qm);
        } else if (req.method == "GET" && q.empty()) {
            log.push_back("GET");
            r = get(name, req);
        } else {
            return az_error(400, "UnsupportedHttpVerb", "unexpected request");
        }
        if (tamper)
            tamper(req, r);
        return r;
    }

    static std::string etag_of(const std::string &bytes) {
        return "\"0x" + crypto::hex(crypto::md5(bytes)).substr(0, 15) + "\"";
    }

private:
    FakeResponse get(const std::string &name, const FakeRequest &req) {
        auto it = blobs.find(name);
        if (it == blobs.end())
            return az_error(404, "BlobNotFound", "The specified blob does not exist.");
        const std::string &bytes = it->second;
        std::string etag = etag_of(bytes);
        if (const std::string *match = req.header("If-Match"))
            if (*match != etag)
                return az_error(412, "ConditionNotMet",
                                "The condition specified using HTTP conditional header(s) is not "
                                "met.");
        FakeResponse r;
        r.headers = {{"ETag", etag}, {"x-ms-blob-type", "BlockBlob"}};
        std::string range = req.header_or("x-ms-range");
        if (range.empty()) {
            r.body = bytes;
            return r;
        }
        size_t from = std::stoull(range.substr(6)); // "bytes=N-"
        if (from >= bytes.size())
            return az_error(416, "InvalidRange", "The range specified is invalid.");
        r.status = 206;
        r.body = bytes.substr(from);
        r.headers.push_back({"Content-Range", "bytes " + std::to_string(from) + "-" +
                                                  std::to_string(bytes.size() - 1) + "/" +
                                                  std::to_string(bytes.size())});
        return r;
    }

    // List Blobs of container, names in byte order, pages by marker.
    FakeResponse list(const std::string &container, std::map<std::string, std::string> &q) {
        std::string prefix = q["prefix"];
        size_t max = q.count("maxresults") ? std::stoul(q["maxresults"]) : 5000;
        std::string after;
        if (!q["marker"].empty()) {
            auto decoded = crypto::base64_decode(q["marker"]);
            if (!decoded || decoded->compare(0, 2, "2!") != 0)
                return az_error(400, "OutOfRangeInput", "bad marker");
            after = decoded->substr(2);
        }
        std::string base = "/" + container + "/", items, last;
        size_t count = 0;
        bool more = false;
        for (const auto &[path, bytes] : blobs) {
            if (path.compare(0, base.size(), base) != 0)
                continue;
            std::string name = path.substr(base.size());
            if (name.compare(0, prefix.size(), prefix) != 0 || (!after.empty() && name <= after))
                continue;
            if (count == max) {
                more = true;
                break;
            }
            std::string shown = encode_listed_names
                                    ? "<Name Encoded=\"true\">" + http::percent_encode(name, true)
                                    : "<Name>" + http::xml_escape(name);
            items += "<Blob>" + shown + "</Name><Properties><Last-Modified>Wed, 01 May 2024 "
                     "12:00:00 GMT</Last-Modified><Etag>" + http::xml_escape(etag_of(bytes)) +
                     "</Etag><Content-Length>" + std::to_string(bytes.size()) +
                     "</Content-Length><Content-Type>application/gzip</Content-Type>"
                     "<BlobType>BlockBlob</BlobType></Properties><OrMetadata /></Blob>";
            last = name;
            count++;
        }
        FakeResponse r;
        r.status = 200;
        r.body = "<?xml version=\"1.0\" encoding=\"utf-8\"?><EnumerationResults "
                 "ServiceEndpoint=\"http://127.0.0.1/devstoreaccount1\" ContainerName=\"" +
                 container + "\"><Prefix>" + http::xml_escape(prefix) + "</Prefix><Marker>" +
                 http::xml_escape(q["marker"]) + "</Marker><MaxResults>" + std::to_string(max) +
                 "</MaxResults><Blobs>" + items + "</Blobs>" +
                 (more ? "<NextMarker>" + crypto::base64("2!" + last) + "</NextMarker>"
                       : "<NextMarker />") +
                 "</EnumerationResults>";
        return r;
    }

    std::string verify(const FakeRequest &req,
                       std::vector<std::pair<std::string, std::string>> &q) {
        if (req.header_or("x-ms-version") != AzureBlobStorage::api_version)
            return "x-ms-version missing";
        if (req.header("x-ms-date") == nullptr)
            return "x-ms-date missing";
        if (const std::string *md5 = req.header("Content-MD5"))
            if (*md5 != crypto::base64(crypto::md5(req.body)))
                return "content-md5 mismatch";
        if (!req.body.empty() && req.header("Content-MD5") == nullptr)
            return "a body without Content-MD5";
        if (expect_sas) {
            if (req.header("Authorization"))
                return "Authorization sent with a SAS";
            if (req.query.find(sas) == std::string::npos)
                return "SAS missing from " + req.query;
            // Drop the SAS's own parameters from what the handler sees.
            std::vector<std::pair<std::string, std::string>> kept;
            for (auto &p : q)
                if (p.first != "sv" && p.first != "ss" && p.first != "srt" && p.first != "sp" &&
                    p.first != "se" && p.first != "sig")
                    kept.push_back(p);
            q = kept;
            return "";
        }
        az::Request s;
        s.method = req.method;
        s.account = account;
        s.path = req.path; // as sent; the account is in it (path style)
        s.query = q;
        for (const auto &h : req.headers)
            s.headers.emplace_back(h.first, h.second);
        std::string want = az::authorization(account, az::signature(az::string_to_sign(s), key));
        if (req.header_or("Authorization") != want)
            return "signature mismatch; string to sign:\n" + az::string_to_sign(s);
        return "";
    }
};

struct AzureFixture : ::testing::Test {
    FakeAzure az;
    FakeHttpServer server{[this](const FakeRequest &r) { return az.handle(r); }};

    AzureConfig config(size_t block_size = 1024) {
        AzureConfig c;
        c.account_name = account;
        c.account_key = key_b64;
        c.container = "backups";
        c.endpoint = server.url() + "/" + account;
        c.prefix = "cluster-a";
        c.block_size = block_size;
        c.http.retry.max_retries = 2;
        c.http.retry.base_delay_ms = 1;
        c.http.retry.max_delay_ms = 2;
        return c;
    }

    void TearDown() override {
        for (const std::string &f : az.failures)
            ADD_FAILURE() << "server-side check failed: " << f;
    }
};

} // namespace convoy::test
