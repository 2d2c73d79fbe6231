#include "core/storage/sign/sigv4.hpp"

#include <algorithm>
#include <cctype>

#include "core/error.hpp"
#include "core/storage/http/url.hpp"
#include "core/storage/sign/crypto.hpp"

namespace convoy::sigv4 {

const char empty_payload_hash[] =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// Trims and collapses runs of whitespace into one space.
std::string trim_collapse(std::string_view value) {
    std::string out;
    bool pending_space = false;
    for (char c : value) {
        if (is_space(c)) {
            pending_space = !out.empty();
            continue;
        }
        if (pending_space)
            out += ' ';
        pending_space = false;
        out += c;
    }
    return out;
}

} // namespace

std::string canonical_uri(const std::string &path) {
    if (path.empty())
        return "/";
    return http::percent_encode(path, true);
}

std::string canonical_query(const Pairs &query) {
    std::vector<std::pair<std::string, std::string>> encoded;
    encoded.reserve(query.size());
    for (const auto &[name, value] : query)
        encoded.emplace_back(http::percent_encode(name, false), http::percent_encode(value, false));
    std::sort(encoded.begin(), encoded.end());
    std::string out;
    for (const auto &[name, value] : encoded) {
        if (!out.empty())
            out += '&';
        out += name;
        out += '=';
        out += value;
    }
    return out;
}

std::string canonical_headers(const Pairs &headers, std::string &signed_headers) {
    // Stable: repeated names keep the order they were given in.
    std::vector<std::pair<std::string, std::string>> merged;
    for (const auto &[name, value] : headers) {
        std::string key = http::ascii_lower(trim_collapse(name));
        std::string val = trim_collapse(value);
        auto it = std::find_if(merged.begin(), merged.end(),
                               [&](const auto &p) { return p.first == key; });
        if (it == merged.end())
            merged.emplace_back(std::move(key), std::move(val));
        else
            it->second += "," + val;
    }
    std::stable_sort(merged.begin(), merged.end(),
                     [](const auto &a, const auto &b) { return a.first < b.first; });
    std::string out;
    signed_headers.clear();
    for (const auto &[name, value] : merged) {
        out += name + ":" + value + "\n";
        if (!signed_headers.empty())
            signed_headers += ';';
        signed_headers += name;
    }
    return out;
}

std::string amz_date(std::time_t t) {
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof(buf), "%Y%m%dT%H%M%SZ", &tm);
    return buf;
}

Signature sign(const Request &request, const Credentials &credentials, const std::string &region,
               const std::string &service, const std::string &amz_date) {
    if (amz_date.size() != 16 || amz_date[8] != 'T' || amz_date[15] != 'Z')
        throw Error(ErrorKind::internal, "malformed x-amz-date value for signing");
    Signature sig;
    std::string headers = canonical_headers(request.headers, sig.signed_headers);
    sig.canonical_request = request.method + "\n" + canonical_uri(request.path) + "\n" +
                            canonical_query(request.query) + "\n" + headers + "\n" +
                            sig.signed_headers + "\n" + request.payload_hash;

    std::string date = amz_date.substr(0, 8);
    std::string scope = date + "/" + region + "/" + service + "/aws4_request";
    sig.string_to_sign = "AWS4-HMAC-SHA256\n" + amz_date + "\n" + scope + "\n" +
                         crypto::hex(crypto::sha256(sig.canonical_request));

    auto k_date = crypto::hmac_sha256("AWS4" + credentials.secret_key, date);
    auto k_region = crypto::hmac_sha256(crypto::as_bytes(k_date), region);
    auto k_service = crypto::hmac_sha256(crypto::as_bytes(k_region), service);
    auto k_signing = crypto::hmac_sha256(crypto::as_bytes(k_service), "aws4_request");
    sig.signature =
        crypto::hex(crypto::hmac_sha256(crypto::as_bytes(k_signing), sig.string_to_sign));
    sig.authorization = "AWS4-HMAC-SHA256 Credential=" + credentials.access_key + "/" + scope +
                        ", SignedHeaders=" + sig.signed_headers + ", Signature=" + sig.signature;
    return sig;
}

} // namespace convoy::sigv4
