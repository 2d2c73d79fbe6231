#include "core/storage/s3/s3_storage.hpp"

#include <algorithm>
#include <cctype>
#include <ctime>
#include <utility>
#include <vector>

#include "core/error.hpp"
#include "core/storage/http/download.hpp"
#include "core/storage/http/object_names.hpp"
#include "core/storage/http/parted_upload.hpp"
#include "core/storage/http/url.hpp"
#include "core/storage/http/xml.hpp"
#include "core/storage/sign/crypto.hpp"
#include "core/storage/sign/sigv4.hpp"

namespace convoy {

namespace detail {

struct S3Context {
    S3Config config;
    http::Endpoint endpoint;
    bool virtual_host = false;
    std::string host; // the Host header
    std::string
        base_path;      // decoded path before the key: "/bucket" or "" (plus the endpoint's path)
    std::string prefix; // normalised
    sigv4::Credentials credentials;
    http::Client client;
    // Connections that one read passes on to the next.
    std::shared_ptr<http::ConnectionPool> read_connections =
        std::make_shared<http::ConnectionPool>();

    S3Context(S3Config cfg, http::Endpoint ep)
        : config(std::move(cfg)), endpoint(std::move(ep)), client(config.http) {}

    std::string location(const std::string &object) const {
        return "s3://" + config.bucket + "/" + printable_key(object);
    }
    // Decoded request paths: of an object, and of the bucket (for listing).
    std::string object_path(const std::string &object) const { return base_path + "/" + object; }
    std::string bucket_path() const { return base_path.empty() ? "/" : base_path; }
};

} // namespace detail

namespace {

using detail::S3Context;
using Pairs = sigv4::Pairs;

constexpr size_t max_key_bytes = 1024;
constexpr int parts_per_size_step = 1000;
constexpr int max_list_page_size = 1000;
// A listing reply holds at most this much per key (a 1024-byte key URL-encoded,
// with its size, date, ETag and storage class), plus the envelope.
constexpr size_t list_reply_bytes_per_key = 4096;
constexpr size_t list_reply_envelope_bytes = 64 * 1024;

// A key as ListObjectsV2 returns it with encoding-type=url: percent-encoded,
// and a space as '+' (a '+' itself comes as %2B).
std::string decode_listed_key(std::string_view text) {
    std::string plus_as_space(text);
    std::replace(plus_as_space.begin(), plus_as_space.end(), '+', ' ');
    return http::percent_decode(plus_as_space);
}

bool parse_size(const std::optional<std::string> &text, uint64_t &size) {
    if (!text || text->empty() || text->size() > 19 ||
        text->find_first_not_of("0123456789") != std::string::npos)
        return false;
    size = std::stoull(*text);
    return true;
}

// A bucket name usable as a DNS label in a virtual-hosted URL.
bool dns_compatible(const std::string &bucket, bool https) {
    if (bucket.size() < 3 || bucket.size() > 63)
        return false;
    for (char c : bucket) {
        if (!(std::islower(static_cast<unsigned char>(c)) ||
              std::isdigit(static_cast<unsigned char>(c)) || c == '-' || c == '.'))
            return false;
        // With TLS a dot would not match the *.s3 wildcard certificate.
        if (c == '.' && https)
            return false;
    }
    return bucket.front() != '-' && bucket.back() != '-' && bucket.front() != '.' &&
           bucket.back() != '.';
}

// Builds a signed request. path is decoded (S3Context::object_path() or
// bucket_path()), query decoded pairs.
http::Request signed_request(const S3Context &ctx, const std::string &method,
                             const std::string &path, const Pairs &query,
                             std::vector<http::Header> extra, const std::string &payload_hash,
                             const uint8_t *body, size_t body_len) {
    std::string date = sigv4::amz_date(std::time(nullptr));

    sigv4::Request sreq;
    sreq.method = method;
    sreq.path = path;
    sreq.query = query;
    sreq.payload_hash = payload_hash;
    sreq.headers.emplace_back("host", ctx.host);
    sreq.headers.emplace_back("x-amz-content-sha256", payload_hash);
    sreq.headers.emplace_back("x-amz-date", date);
    if (!ctx.credentials.session_token.empty())
        sreq.headers.emplace_back("x-amz-security-token", ctx.credentials.session_token);
    for (const http::Header &h : extra)
        sreq.headers.emplace_back(h.name, h.value);
    sigv4::Signature sig = sigv4::sign(sreq, ctx.credentials, ctx.config.region, "s3", date);

    http::Request req;
    req.method = method;
    req.url = ctx.endpoint.scheme + "://" + ctx.host + sigv4::canonical_uri(path);
    // The URL's query must be what was signed: encoded the same way. A valueless
    // parameter is sent bare ("?uploads"), which S3 reads as "uploads=".
    std::string q;
    for (const auto &[name, value] : query) {
        q += q.empty() ? "?" : "&";
        q += http::percent_encode(name, false);
        if (!value.empty())
            q += "=" + http::percent_encode(value, false);
    }
    req.url += q;
    for (const auto &[name, value] : sreq.headers)
        req.headers.push_back(http::Header{name, value});
    req.headers.push_back(http::Header{"Authorization", sig.authorization});
    req.body = body;
    req.body_len = body_len;
    return req;
}

class S3Upload final : public http::PartedUpload {
public:
    S3Upload(std::shared_ptr<S3Context> ctx, std::string object)
        : PartedUpload(http::PartLimits{ctx->config.part_size, S3Storage::max_part_size,
                                        S3Storage::max_parts, parts_per_size_step}),
          ctx_(std::move(ctx)), object_(std::move(object)), path_(ctx_->object_path(object_)),
          content_type_(http::content_type_for(object_)) {}

    ~S3Upload() override { abort_unless_done(); }

private:
    std::string location() const override { return ctx_->location(object_); }

    void put_single(const uint8_t *data, size_t len) override {
        std::string hash = crypto::hex(crypto::sha256(data, len));
        std::string md5 = crypto::base64(crypto::md5(data, len));
        std::string what = "could not upload " + location();
        http::Response r = ctx_->client.send(
            [&] {
                return signed_request(*ctx_, "PUT", path_, {},
                                      {{"Content-MD5", md5}, {"Content-Type", content_type_}}, hash,
                                      data, len);
            },
            what);
        if (r.status != 200)
            http::throw_status_error(r, what);
    }

    void create() {
        std::string what = "could not start a multipart upload of " + location();
        http::Response r = ctx_->client.send(
            [&] {
                return signed_request(*ctx_, "POST", path_, {{"uploads", ""}},
                                      {{"Content-Type", content_type_}}, sigv4::empty_payload_hash,
                                      nullptr, 0);
            },
            what);
        if (r.status != 200)
            http::throw_status_error(r, what);
        auto id = http::xml_element_text(r.body, "UploadId");
        if (!id || id->empty())
            throw Error(ErrorKind::storage_io, what + ": the reply has no upload ID");
        upload_id_ = *id;
    }

    void put_part(int n, const uint8_t *data, size_t len) override {
        if (upload_id_.empty())
            create();
        std::string hash = crypto::hex(crypto::sha256(data, len));
        std::string md5 = crypto::base64(crypto::md5(data, len));
        std::string number = std::to_string(n);
        std::string what = "could not upload part " + number + " of " + location();
        http::Response r = ctx_->client.send(
            [&] {
                return signed_request(*ctx_, "PUT", path_,
                                      {{"partNumber", number}, {"uploadId", upload_id_}},
                                      {{"Content-MD5", md5}}, hash, data, len);
            },
            what);
        if (r.status != 200)
            http::throw_status_error(r, what);
        const std::string *etag = r.header("ETag");
        if (etag == nullptr || etag->empty())
            throw Error(ErrorKind::storage_io, what + ": the reply has no ETag");
        etags_.push_back(*etag);
    }

    void finish_parts(int count) override {
        if (static_cast<size_t>(count) != etags_.size())
            throw Error(ErrorKind::internal, "multipart upload part count mismatch");
        std::string body =
            "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">";
        for (size_t i = 0; i < etags_.size(); i++)
            body += "<Part><PartNumber>" + std::to_string(i + 1) + "</PartNumber><ETag>" +
                    http::xml_escape(etags_[i]) + "</ETag></Part>";
        body += "</CompleteMultipartUpload>";
        const auto *bytes = reinterpret_cast<const uint8_t *>(body.data());
        std::string hash = crypto::hex(crypto::sha256(body));
        std::string md5 = crypto::base64(crypto::md5(body));
        std::string what = "could not complete the multipart upload of " + location();
        http::Response r = ctx_->client.send(
            [&] {
                return signed_request(*ctx_, "POST", path_, {{"uploadId", upload_id_}},
                                      {{"Content-MD5", md5}, {"Content-Type", "application/xml"}},
                                      hash, bytes, body.size());
            },
            what);
        if (r.status != 200)
            http::throw_status_error(r, what);
        // S3 may answer 200 and still report an error in the body.
        if (r.body.find("CompleteMultipartUploadResult") == std::string::npos) {
            http::ServiceError err = http::service_error(r);
            bool transient = err.code == "InternalError" || err.code == "SlowDown" ||
                             err.code == "ServiceUnavailable";
            throw Error(transient ? ErrorKind::storage_unavailable : ErrorKind::storage_io,
                        what + (err.code.empty() ? ": unexpected reply"
                                                 : ": the service reported " + err.code),
                        err.message.empty() ? "" : "The service said: " + err.message);
        }
    }

    void cancel_parts() noexcept override {
        if (upload_id_.empty())
            return;
        try {
            // Best effort, and quickly: the caller is already handling a failure.
            // A client of its own, because that failure may be a cancel, after
            // which ctx_->client refuses every request: an upload left open would
            // keep its parts (and their cost) until a lifecycle rule removes them.
            http::Client cleanup(http::cleanup_options(ctx_->config.http));
            cleanup.send(
                [&] {
                    return signed_request(*ctx_, "DELETE", path_, {{"uploadId", upload_id_}}, {},
                                          sigv4::empty_payload_hash, nullptr, 0);
                },
                "could not abort the multipart upload of " + location());
            // 204, or 404 if it is already gone: nothing more to do either way.
        } catch (...) {
        }
    }

    std::shared_ptr<S3Context> ctx_;
    std::string object_;
    std::string path_; // decoded request path
    std::string content_type_;
    std::string upload_id_;
    std::vector<std::string> etags_; // part i+1 at index i
};

} // namespace

void check_s3_bucket_name(const std::string &bucket) {
    for (char c : bucket) {
        unsigned char u = static_cast<unsigned char>(c);
        if (!(std::isalnum(u) || c == '-' || c == '.' || c == '_'))
            throw_config_error("invalid S3 bucket name \"" + printable_key(bucket) + "\"",
                               "Bucket names consist of letters, digits, '-', '.' and '_'.");
    }
    if (bucket.size() > 255)
        throw_config_error("invalid S3 bucket name \"" + printable_key(bucket) + "\"",
                           "The name is too long.");
}

S3Storage::S3Storage(S3Config config) {
    if (config.bucket.empty())
        throw_config_error("S3 bucket is not set");
    check_s3_bucket_name(config.bucket);
    if (config.access_key.empty() || config.secret_key.empty())
        throw_config_error("S3 credentials are not set",
                           "Both an access key ID and a secret access key are required.");
    for (char c : config.access_key)
        if (static_cast<unsigned char>(c) <= 0x20 || c == '/' || c == 0x7f)
            throw_config_error("invalid S3 access key ID",
                               "The access key ID cannot contain spaces, '/' or control characters.");
    if (config.region.empty())
        config.region = "us-east-1";
    for (char c : config.region)
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-'))
            throw_config_error("invalid S3 region \"" + printable_key(config.region) + "\"",
                               "A region consists of letters, digits and '-'.");
    if (config.list_page_size < 1 || config.list_page_size > max_list_page_size)
        throw_config_error("invalid S3 listing page size " + std::to_string(config.list_page_size),
                           "The page size must be between 1 and 1000 keys.");
    if (config.read_buffer_size < 1)
        throw_config_error("invalid S3 read buffer size 0");
    size_t min_part = config.allow_small_parts ? 1 : min_part_size;
    if (config.part_size < min_part || config.part_size > max_part_size)
        throw_config_error("invalid S3 part size " + std::to_string(config.part_size),
                           "The part size must be between 5 MiB and 5 GiB.");

    http::StoreAddress address = http::parse_store_address(
        config.endpoint, "https://s3." + config.region + ".amazonaws.com", config.prefix, "S3");

    context_ = std::make_shared<S3Context>(std::move(config), std::move(address.endpoint));
    S3Context &ctx = *context_;
    ctx.prefix = std::move(address.prefix);
    ctx.credentials = {ctx.config.access_key, ctx.config.secret_key, ctx.config.session_token};
    std::string base = http::percent_decode(ctx.endpoint.base_path);
    ctx.virtual_host = !ctx.config.force_path_style && ctx.endpoint.base_path.empty() &&
                       !ctx.endpoint.host_is_address() &&
                       dns_compatible(ctx.config.bucket, ctx.endpoint.scheme == "https");
    if (ctx.virtual_host) {
        ctx.host = ctx.config.bucket + "." + ctx.endpoint.authority();
        ctx.base_path = base;
    } else {
        ctx.host = ctx.endpoint.authority();
        ctx.base_path = base + "/" + ctx.config.bucket;
    }
}

S3Storage::~S3Storage() = default;

std::unique_ptr<ObjectUpload> S3Storage::begin_upload(const std::string &key) {
    std::string object = http::stored_name(context_->prefix, key, max_key_bytes, "S3 keys");
    return std::make_unique<S3Upload>(context_, std::move(object));
}

std::string S3Storage::stored_key(const std::string &key) const {
    return http::join_prefix(context_->prefix, key);
}

std::string S3Storage::describe() const {
    const S3Context &ctx = *context_;
    std::string out = "s3://" + ctx.config.bucket;
    if (!ctx.prefix.empty())
        out += "/" + printable_key(ctx.prefix);
    if (!ctx.config.endpoint.empty())
        out += " at " + ctx.endpoint.origin() + ctx.endpoint.base_path;
    return out;
}

void S3Storage::list(const std::string &prefix,
                     const std::function<void(const ListedObject &)> &each) {
    validate_key_prefix(prefix);
    S3Context &ctx = *context_;
    std::string wanted = http::listing_prefix(ctx.prefix, prefix);
    std::string what = "could not list " + ctx.location(wanted);
    const std::string page_size = std::to_string(ctx.config.list_page_size);
    std::string token;
    for (;;) {
        Pairs query = {{"list-type", "2"}, {"encoding-type", "url"}, {"max-keys", page_size}};
        if (!wanted.empty())
            query.emplace_back("prefix", wanted);
        if (!token.empty())
            query.emplace_back("continuation-token", token);
        http::Response r = ctx.client.send(
            [&] {
                http::Request req = signed_request(ctx, "GET", ctx.bucket_path(), query, {},
                                                   sigv4::empty_payload_hash, nullptr, 0);
                req.max_response_body = list_reply_envelope_bytes +
                                        list_reply_bytes_per_key * ctx.config.list_page_size;
                return req;
            },
            what);
        if (r.status == 404 && http::service_error(r).code == "NoSuchBucket")
            throw Error(ErrorKind::not_found, what + ": the bucket does not exist");
        if (r.status != 200)
            http::throw_status_error(r, what);
        if (r.body_truncated || r.body.find("</ListBucketResult>") == std::string::npos)
            throw Error(ErrorKind::storage_io, what + ": the listing reply is incomplete");
        // The service encodes keys as asked; an emulator may not (and says so
        // by leaving EncodingType out).
        bool encoded = http::xml_element_text(r.body, "EncodingType").value_or("") == "url";
        http::xml_for_each(r.body, "Contents", [&](const http::XmlElement &entry) {
            std::optional<std::string> name = http::xml_element_text(entry.inner, "Key");
            ListedObject object;
            if (!name || !parse_size(http::xml_element_text(entry.inner, "Size"), object.size))
                throw Error(ErrorKind::storage_io, what + ": the listing reply is malformed");
            std::optional<std::string> key =
                http::listed_key(ctx.prefix, encoded ? decode_listed_key(*name) : *name);
            if (!key)
                return;
            object.key = std::move(*key);
            each(object);
        });
        if (http::xml_element_text(r.body, "IsTruncated").value_or("false") != "true")
            return;
        std::optional<std::string> next = http::xml_element_text(r.body, "NextContinuationToken");
        if (!next || next->empty() || *next == token)
            throw Error(ErrorKind::storage_io,
                        what + ": the listing reply has no continuation token");
        token = std::move(*next);
    }
}

std::unique_ptr<ObjectReader> S3Storage::open_read(const std::string &key) {
    std::shared_ptr<S3Context> ctx = context_;
    std::string object = http::stored_name(ctx->prefix, key, max_key_bytes, "S3 keys");
    std::string path = ctx->object_path(object);
    http::RangeRequest build = [ctx, path](uint64_t offset, const std::string &etag) {
        std::vector<http::Header> extra;
        if (offset > 0) {
            extra.push_back({"Range", "bytes=" + std::to_string(offset) + "-"});
            extra.push_back({"If-Match", etag});
        }
        return signed_request(*ctx, "GET", path, {}, std::move(extra), sigv4::empty_payload_hash,
                              nullptr, 0);
    };
    return std::make_unique<http::Download>(
        ctx->config.http, ctx->config.read_buffer_size, std::move(build),
        "could not read " + ctx->location(object),
        "object \"" + printable_key(object) + "\" does not exist in " + describe(),
        ctx->read_connections);
}

} // namespace convoy
