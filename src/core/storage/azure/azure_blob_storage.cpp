#include "core/storage/azure/azure_blob_storage.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdint>
#include <ctime>
#include <utility>
#include <vector>

#include "core/error.hpp"
#include "core/storage/http/download.hpp"
#include "core/storage/http/object_names.hpp"
#include "core/storage/http/parted_upload.hpp"
#include "core/storage/http/url.hpp"
#include "core/storage/http/xml.hpp"
#include "core/storage/sign/azure_shared_key.hpp"
#include "core/storage/sign/crypto.hpp"

namespace convoy {

namespace detail {

struct AzureContext {
    AzureConfig config;
    http::Endpoint endpoint;
    std::string decoded_key; // empty when a SAS is used
    std::string sas_query;   // the SAS without a leading '?'
    std::string prefix;
    bool container_ready = false;
    http::Client client;
    // Connections that one read passes on to the next.
    std::shared_ptr<http::ConnectionPool> read_connections =
        std::make_shared<http::ConnectionPool>();

    AzureContext(AzureConfig cfg, http::Endpoint ep)
        : config(std::move(cfg)), endpoint(std::move(ep)), client(config.http) {}

    std::string location(const std::string &blob) const {
        return "azure://" + config.account_name + "/" + config.container + "/" +
               printable_key(blob);
    }
};

} // namespace detail

namespace {

using detail::AzureContext;
using Pairs = azure_sign::Pairs;

constexpr size_t max_blob_name_bytes = 1024;
constexpr int blocks_per_size_step = 5000;
constexpr size_t block_id_bytes = 16; // before base64
constexpr int max_list_page_size = 5000;
// A listing reply holds at most this much per blob (a 1024-byte name, escaped,
// and its properties), plus the envelope.
constexpr size_t list_reply_bytes_per_blob = 8192;
constexpr size_t list_reply_envelope_bytes = 64 * 1024;

bool parse_size(const std::optional<std::string> &text, uint64_t &size) {
    if (!text || text->empty() || text->size() > 19 ||
        text->find_first_not_of("0123456789") != std::string::npos)
        return false;
    size = std::stoull(*text);
    return true;
}

// path: encoded, starting with '/' (container and blob, without the endpoint's
// base path); query: decoded pairs.
http::Request signed_request(const AzureContext &ctx, const std::string &method,
                             const std::string &path, const Pairs &query,
                             std::vector<http::Header> extra, const uint8_t *body,
                             size_t body_len) {
    std::string full_path = ctx.endpoint.base_path + path;
    http::Request req;
    req.method = method;
    req.url = ctx.endpoint.origin() + full_path;
    std::string q;
    for (const auto &[name, value] : query)
        q += (q.empty() ? "?" : "&") + http::percent_encode(name, false) + "=" +
             http::percent_encode(value, false);
    if (!ctx.sas_query.empty())
        q += (q.empty() ? "?" : "&") + ctx.sas_query;
    req.url += q;

    req.headers.push_back({"x-ms-date", azure_sign::http_date(std::time(nullptr))});
    req.headers.push_back({"x-ms-version", AzureBlobStorage::api_version});
    if (method == "PUT" || method == "POST")
        req.headers.push_back({"Content-Length", std::to_string(body_len)});
    for (http::Header &h : extra)
        req.headers.push_back(std::move(h));
    if (ctx.sas_query.empty()) {
        azure_sign::Request sreq;
        sreq.method = method;
        sreq.account = ctx.config.account_name;
        sreq.path = full_path;
        sreq.query = query;
        for (const http::Header &h : req.headers)
            sreq.headers.emplace_back(h.name, h.value);
        std::string sig = azure_sign::signature(azure_sign::string_to_sign(sreq), ctx.decoded_key);
        req.headers.push_back(
            {"Authorization", azure_sign::authorization(ctx.config.account_name, sig)});
    }
    req.body = body;
    req.body_len = body_len;
    return req;
}

void ensure_container(AzureContext &ctx) {
    if (ctx.container_ready || !ctx.config.create_container)
        return;
    std::string what = "could not create container \"" + ctx.config.container + "\" in " +
                       "azure://" + ctx.config.account_name;
    http::Response r = ctx.client.send(
        [&] {
            return signed_request(ctx, "PUT", "/" + ctx.config.container,
                                  {{"restype", "container"}}, {}, nullptr, 0);
        },
        what);
    bool fine = r.status == 201 ||
                (r.status == 409 && http::service_error(r).code == "ContainerAlreadyExists") ||
                // A SAS may allow writing blobs but not creating containers.
                (r.status == 403 && !ctx.sas_query.empty());
    if (!fine)
        http::throw_status_error(r, what);
    ctx.container_ready = true;
}

class AzureUpload final : public http::PartedUpload {
public:
    AzureUpload(std::shared_ptr<AzureContext> ctx, std::string blob)
        : PartedUpload(http::PartLimits{ctx->config.block_size, AzureBlobStorage::max_block_size,
                                        AzureBlobStorage::max_blocks, blocks_per_size_step}),
          ctx_(std::move(ctx)), blob_(std::move(blob)),
          path_("/" + ctx_->config.container + "/" + http::percent_encode(blob_, true)),
          content_type_(http::content_type_for(blob_)) {
        crypto::secure_random(block_id_nonce_.data(), block_id_nonce_.size());
    }

    ~AzureUpload() override { abort_unless_done(); }

private:
    // Block n's id: this upload's random nonce, then n (big-endian), in base64.
    // Another upload of the same blob at the same time (a manual export of the
    // window the runner is exporting) thus never overwrites one of this upload's
    // blocks, and the block list commits only blocks of this upload's stream.
    // Azure wants all ids of a blob equally long, uncommitted ones included: 16
    // bytes, as the "block-%010d" ids of earlier versions were.
    std::string block_id(int n) const {
        std::array<uint8_t, block_id_bytes> raw{};
        std::copy(block_id_nonce_.begin(), block_id_nonce_.end(), raw.begin());
        auto number = static_cast<uint32_t>(n);
        for (size_t i = raw.size(); i-- > block_id_nonce_.size(); number >>= 8)
            raw[i] = static_cast<uint8_t>(number);
        return crypto::base64(raw);
    }

    std::string location() const override { return ctx_->location(blob_); }

    void check(const http::Response &r, const std::string &what) {
        if (r.status != 201)
            http::throw_status_error(r, what);
    }

    void put_single(const uint8_t *data, size_t len) override {
        ensure_container(*ctx_);
        std::string md5 = crypto::base64(crypto::md5(data, len));
        std::string what = "could not upload " + location();
        check(ctx_->client.send(
                  [&] {
                      return signed_request(*ctx_, "PUT", path_, {},
                                            {{"Content-MD5", md5},
                                             {"Content-Type", content_type_},
                                             {"x-ms-blob-type", "BlockBlob"}},
                                            data, len);
                  },
                  what),
              what);
    }

    void put_part(int n, const uint8_t *data, size_t len) override {
        if (n == 1)
            ensure_container(*ctx_);
        std::string md5 = crypto::base64(crypto::md5(data, len));
        std::string id = block_id(n);
        std::string what = "could not upload block " + std::to_string(n) + " of " + location();
        check(ctx_->client.send(
                  [&] {
                      return signed_request(*ctx_, "PUT", path_,
                                            {{"comp", "block"}, {"blockid", id}},
                                            {{"Content-MD5", md5}}, data, len);
                  },
                  what),
              what);
    }

    void finish_parts(int count) override {
        std::string body = "<?xml version=\"1.0\" encoding=\"utf-8\"?><BlockList>";
        for (int i = 1; i <= count; i++)
            body += "<Latest>" + block_id(i) + "</Latest>";
        body += "</BlockList>";
        const auto *bytes = reinterpret_cast<const uint8_t *>(body.data());
        std::string md5 = crypto::base64(crypto::md5(body));
        std::string what = "could not commit the blocks of " + location();
        check(ctx_->client.send(
                  [&] {
                      return signed_request(*ctx_, "PUT", path_, {{"comp", "blocklist"}},
                                            {{"Content-MD5", md5},
                                             {"Content-Type", "application/xml"},
                                             {"x-ms-blob-content-type", content_type_}},
                                            bytes, body.size());
                  },
                  what),
              what);
    }

    void cancel_parts() noexcept override {
        // Uncommitted blocks cannot be deleted; the service drops them in about
        // a week, and they never become visible under the blob's name.
    }

    std::shared_ptr<AzureContext> ctx_;
    std::string blob_;
    std::string path_; // "/container/encoded/blob"
    std::string content_type_;
    std::array<uint8_t, block_id_bytes - sizeof(uint32_t)> block_id_nonce_;
};

} // namespace

void check_azure_account_name(const std::string &account) {
    for (char c : account)
        if (!(std::islower(static_cast<unsigned char>(c)) ||
              std::isdigit(static_cast<unsigned char>(c))))
            throw_config_error("invalid Azure storage account name \"" + printable_key(account) +
                                   "\"",
                               "Account names consist of lowercase letters and digits.");
}

void check_azure_container_name(const std::string &c) {
    bool ok = c.size() >= 3 && c.size() <= 63 && c.front() != '-' && c.back() != '-' &&
              c.find("--") == std::string::npos;
    for (char ch : c)
        ok = ok && (std::islower(static_cast<unsigned char>(ch)) ||
                    std::isdigit(static_cast<unsigned char>(ch)) || ch == '-');
    if (!ok)
        throw_config_error("invalid Azure container name \"" + printable_key(c) + "\"",
                           "Container names have 3 to 63 lowercase letters, digits and single "
                           "hyphens, and start and end with a letter or digit.");
}

AzureBlobStorage::AzureBlobStorage(AzureConfig config) {
    if (config.account_name.empty())
        throw_config_error("Azure storage account name is not set");
    check_azure_account_name(config.account_name);
    if (config.container.empty())
        throw_config_error("Azure container is not set");
    check_azure_container_name(config.container);
    bool has_key = !config.account_key.empty();
    std::string sas = config.sas_token;
    while (!sas.empty() && (sas.front() == '?' || sas.front() == '&'))
        sas.erase(0, 1);
    bool has_sas = !sas.empty();
    if (has_key == has_sas)
        throw_config_error(has_key ? "both an Azure account key and a SAS token are set"
                           : "Azure credentials are not set",
                           "Set either the account key or a SAS token.");
    std::string decoded;
    if (has_key) {
        auto key = crypto::base64_decode(config.account_key);
        if (!key || key->empty())
            throw_config_error("invalid Azure account key", "The account key must be base64.");
        decoded = std::move(*key);
    } else {
        for (char c : sas)
            if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f || c == '#')
                throw_config_error("invalid Azure SAS token",
                                   "The token must be a URL query string such as \"sv=...&sig=...\".");
        if (sas.find("sig=") == std::string::npos)
            throw_config_error("invalid Azure SAS token", "The token has no \"sig\" parameter.");
    }
    if (config.list_page_size < 1 || config.list_page_size > max_list_page_size)
        throw_config_error("invalid Azure listing page size " +
                               std::to_string(config.list_page_size),
                           "The page size must be between 1 and 5000 names.");
    if (config.read_buffer_size < 1)
        throw_config_error("invalid Azure read buffer size 0");
    if (config.block_size < 1 || config.block_size > max_block_size)
        throw_config_error("invalid Azure block size " + std::to_string(config.block_size),
                           "The block size must be between 1 byte and 4000 MiB.");

    http::StoreAddress address = http::parse_store_address(
        config.endpoint, "https://" + config.account_name + ".blob.core.windows.net",
        config.prefix, "Azure");

    context_ = std::make_shared<AzureContext>(std::move(config), std::move(address.endpoint));
    context_->decoded_key = std::move(decoded);
    context_->sas_query = std::move(sas);
    context_->prefix = std::move(address.prefix);
}

AzureBlobStorage::~AzureBlobStorage() = default;

std::unique_ptr<ObjectUpload> AzureBlobStorage::begin_upload(const std::string &key) {
    std::string blob =
        http::stored_name(context_->prefix, key, max_blob_name_bytes, "Azure blob names");
    return std::make_unique<AzureUpload>(context_, std::move(blob));
}

std::string AzureBlobStorage::stored_key(const std::string &key) const {
    return http::join_prefix(context_->prefix, key);
}

std::string AzureBlobStorage::describe() const {
    const AzureContext &ctx = *context_;
    std::string out = "azure://" + ctx.config.account_name + "/" + ctx.config.container;
    if (!ctx.prefix.empty())
        out += "/" + printable_key(ctx.prefix);
    if (!ctx.config.endpoint.empty())
        out += " at " + ctx.endpoint.origin() + ctx.endpoint.base_path;
    return out;
}

void AzureBlobStorage::list(const std::string &prefix,
                            const std::function<void(const ListedObject &)> &each) {
    validate_key_prefix(prefix);
    AzureContext &ctx = *context_;
    std::string wanted = http::listing_prefix(ctx.prefix, prefix);
    std::string what = "could not list " + ctx.location(wanted);
    const std::string page_size = std::to_string(ctx.config.list_page_size);
    std::string marker;
    for (;;) {
        Pairs query = {{"restype", "container"}, {"comp", "list"}, {"maxresults", page_size}};
        if (!wanted.empty())
            query.emplace_back("prefix", wanted);
        if (!marker.empty())
            query.emplace_back("marker", marker);
        http::Response r = ctx.client.send(
            [&] {
                http::Request req =
                    signed_request(ctx, "GET", "/" + ctx.config.container, query, {}, nullptr, 0);
                req.max_response_body = list_reply_envelope_bytes +
                                        list_reply_bytes_per_blob * ctx.config.list_page_size;
                return req;
            },
            what);
        if (r.status == 404 && http::service_error(r).code == "ContainerNotFound")
            throw Error(ErrorKind::not_found, what + ": the container does not exist");
        if (r.status != 200)
            http::throw_status_error(r, what);
        if (r.body_truncated || r.body.find("</EnumerationResults>") == std::string::npos)
            throw Error(ErrorKind::storage_io, what + ": the listing reply is incomplete");
        http::xml_for_each(r.body, "Blob", [&](const http::XmlElement &blob) {
            ListedObject object;
            std::optional<std::string> name;
            bool encoded = false;
            http::xml_for_each(blob.inner, "Name", [&](const http::XmlElement &n) {
                name = http::xml_unescape(n.inner);
                // A name with characters XML cannot carry comes percent-encoded.
                encoded = n.attributes.find("Encoded=\"true\"") != std::string_view::npos;
            });
            if (!name || !parse_size(http::xml_element_text(blob.inner, "Content-Length"),
                                     object.size))
                throw Error(ErrorKind::storage_io, what + ": the listing reply is malformed");
            std::optional<std::string> key =
                http::listed_key(ctx.prefix, encoded ? http::percent_decode(*name) : *name);
            if (!key)
                return;
            object.key = std::move(*key);
            each(object);
        });
        std::string next = http::xml_element_text(r.body, "NextMarker").value_or("");
        if (next.empty())
            return;
        if (next == marker)
            throw Error(ErrorKind::storage_io, what + ": the listing reply repeats its marker");
        marker = std::move(next);
    }
}

std::unique_ptr<ObjectReader> AzureBlobStorage::open_read(const std::string &key) {
    std::shared_ptr<AzureContext> ctx = context_;
    std::string blob =
        http::stored_name(ctx->prefix, key, max_blob_name_bytes, "Azure blob names");
    std::string path = "/" + ctx->config.container + "/" + http::percent_encode(blob, true);
    http::RangeRequest build = [ctx, path](uint64_t offset, const std::string &etag) {
        std::vector<http::Header> extra;
        if (offset > 0) {
            extra.push_back({"x-ms-range", "bytes=" + std::to_string(offset) + "-"});
            extra.push_back({"If-Match", etag});
        }
        return signed_request(*ctx, "GET", path, {}, std::move(extra), nullptr, 0);
    };
    return std::make_unique<http::Download>(
        ctx->config.http, ctx->config.read_buffer_size, std::move(build),
        "could not read " + ctx->location(blob),
        "object \"" + printable_key(blob) + "\" does not exist in " + describe(),
        ctx->read_connections);
}

} // namespace convoy
