// URL pieces for the object-store clients: endpoint parsing and percent-encoding.
#pragma once

#include <string>
#include <string_view>

#include "core/core_only.hpp"

namespace convoy::http {

// RFC 3986 percent-encoding as AWS SigV4 and Azure want it: every byte except
// the unreserved characters A-Z a-z 0-9 - . _ ~ becomes %XX with uppercase hex;
// '/' is kept as is when keep_slash is true.
std::string percent_encode(std::string_view text, bool keep_slash);

// ASCII case folding for header names, schemes and host names. Not
// std::tolower, whose result depends on the locale the server process runs in.
inline char ascii_lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }
inline std::string ascii_lower(std::string_view text) {
    std::string out(text);
    for (char &c : out)
        c = ascii_lower(c);
    return out;
}

// Decodes %XX sequences (and nothing else: '+' stays '+'). Malformed escapes are
// kept literally.
std::string percent_decode(std::string_view text);

// A service endpoint: scheme://host[:port][/base/path].
struct Endpoint {
    std::string scheme;    // "http" or "https"
    std::string host;      // lowercase; an IPv6 literal keeps its brackets
    int port = 0;          // 0 when the URL gave none or the scheme's default
    std::string base_path; // "" or "/segment[/segment...]" without a trailing '/'

    // host[:port], as the Host header carries it.
    std::string authority() const;
    // scheme://authority
    std::string origin() const;
    // True for IPv4 literals, IPv6 literals and "localhost".
    bool host_is_address() const;
};

// Parses an endpoint such as "https://s3.eu-west-1.amazonaws.com" or
// "http://127.0.0.1:10000/devstoreaccount1". Without a scheme, https is assumed.
// A query, fragment or user-info part is refused. Throws Error(invalid_config);
// setting names the setting in messages.
Endpoint parse_endpoint(std::string_view url, std::string_view setting);

} // namespace convoy::http
