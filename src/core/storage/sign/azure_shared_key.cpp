#include "core/storage/sign/azure_shared_key.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <ctime>
#include <map>

#include "core/error.hpp"
#include "core/storage/http/url.hpp"
#include "core/storage/sign/crypto.hpp"

namespace convoy::azure_sign {

namespace {

std::string trim(std::string_view s) {
    size_t b = 0, e = s.size();
    while (b < e && (s[b] == ' ' || s[b] == '\t'))
        b++;
    while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\t'))
        e--;
    return std::string(s.substr(b, e - b));
}

// The value of a standard header, or "" when absent.
std::string standard(const Pairs &headers, std::string_view name) {
    for (const auto &[n, v] : headers)
        if (http::ascii_lower(n) == name)
            return trim(v);
    return {};
}

} // namespace

std::string string_to_sign(const Request &request) {
    const Pairs &h = request.headers;
    std::string length = standard(h, "content-length");
    if (length == "0")
        length.clear();
    std::string out = request.method + "\n";
    out += standard(h, "content-encoding") + "\n";
    out += standard(h, "content-language") + "\n";
    out += length + "\n";
    out += standard(h, "content-md5") + "\n";
    out += standard(h, "content-type") + "\n";
    out += standard(h, "date") + "\n";
    out += standard(h, "if-modified-since") + "\n";
    out += standard(h, "if-match") + "\n";
    out += standard(h, "if-none-match") + "\n";
    out += standard(h, "if-unmodified-since") + "\n";
    out += standard(h, "range") + "\n";

    // x-ms-* headers: lowercase names, sorted, repeated values joined with ','.
    std::map<std::string, std::string> ms;
    for (const auto &[n, v] : h) {
        std::string name = http::ascii_lower(trim(n));
        if (name.compare(0, 5, "x-ms-") != 0)
            continue;
        auto [it, inserted] = ms.emplace(name, trim(v));
        if (!inserted)
            it->second += "," + trim(v);
    }
    for (const auto &[n, v] : ms)
        out += n + ":" + v + "\n";

    out += "/" + request.account + (request.path.empty() ? std::string("/") : request.path);
    std::map<std::string, std::vector<std::string>> params;
    for (const auto &[n, v] : request.query)
        params[http::ascii_lower(n)].push_back(v);
    for (auto &[n, values] : params) {
        std::sort(values.begin(), values.end());
        out += "\n" + n + ":";
        for (size_t i = 0; i < values.size(); i++) {
            if (i > 0)
                out += ',';
            out += values[i];
        }
    }
    return out;
}

std::string signature(const std::string &string_to_sign, const std::string &decoded_key) {
    return crypto::base64(crypto::hmac_sha256(decoded_key, string_to_sign));
}

std::string authorization(const std::string &account, const std::string &sig) {
    return "SharedKey " + account + ":" + sig;
}

std::string http_date(long long unix_seconds) {
    static const char *days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char *months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    std::time_t t = static_cast<std::time_t>(unix_seconds);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[64];
    std::snprintf(buf, sizeof(buf), "%s, %02d %s %04d %02d:%02d:%02d GMT", days[tm.tm_wday],
                  tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                  tm.tm_sec);
    return buf;
}

} // namespace convoy::azure_sign
