#include "core/storage/http/url.hpp"

#include <cctype>

#include "core/error.hpp"
#include "core/hex_digits.hpp"

namespace convoy::http {

namespace {

bool unreserved(unsigned char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~';
}

[[noreturn]] void bad_endpoint(std::string_view setting, std::string_view url, const char *why) {
    throw Error(ErrorKind::invalid_config,
                "invalid value for " + std::string(setting) + ": \"" + std::string(url) + "\"",
                why);
}

} // namespace

std::string percent_encode(std::string_view text, bool keep_slash) {
    constexpr const char *digits = hex_digits_upper;
    std::string out;
    out.reserve(text.size());
    for (char ch : text) {
        unsigned char c = static_cast<unsigned char>(ch);
        if (unreserved(c) || (keep_slash && c == '/')) {
            out += ch;
        } else {
            out += '%';
            out += digits[c >> 4];
            out += digits[c & 0x0f];
        }
    }
    return out;
}

std::string percent_decode(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (size_t i = 0; i < text.size(); i++) {
        if (text[i] == '%' && i + 2 < text.size() && hex_digit_value(text[i + 1]) >= 0 &&
            hex_digit_value(text[i + 2]) >= 0) {
            out += static_cast<char>(hex_digit_value(text[i + 1]) * 16 + hex_digit_value(text[i + 2]));
            i += 2;
        } else {
            out += text[i];
        }
    }
    return out;
}

std::string Endpoint::authority() const {
    if (port == 0)
        return host;
    return host + ":" + std::to_string(port);
}

std::string Endpoint::origin() const { return scheme + "://" + authority(); }

bool Endpoint::host_is_address() const {
    if (host == "localhost" || (!host.empty() && host.front() == '['))
        return true;
    int dots = 0;
    for (char c : host) {
        if (c == '.')
            dots++;
        else if (!std::isdigit(static_cast<unsigned char>(c)))
            return false;
    }
    return dots == 3;
}

Endpoint parse_endpoint(std::string_view url, std::string_view setting) {
    Endpoint ep;
    std::string_view rest = url;
    size_t sep = rest.find("://");
    if (sep == std::string_view::npos) {
        ep.scheme = "https";
    } else {
        ep.scheme = ascii_lower(rest.substr(0, sep));
        rest.remove_prefix(sep + 3);
        if (ep.scheme != "http" && ep.scheme != "https")
            bad_endpoint(setting, url, "The scheme must be http or https.");
    }
    if (rest.find_first_of("?#") != std::string_view::npos)
        bad_endpoint(setting, url, "An endpoint cannot have a query or a fragment.");
    size_t slash = rest.find('/');
    std::string_view authority = rest.substr(0, slash);
    std::string_view path =
        slash == std::string_view::npos ? std::string_view() : rest.substr(slash);
    if (authority.find('@') != std::string_view::npos)
        bad_endpoint(setting, url, "Credentials cannot be part of the endpoint.");
    if (authority.empty())
        bad_endpoint(setting, url, "The endpoint has no host.");

    std::string_view host = authority;
    std::string_view port;
    if (authority.front() == '[') {
        size_t close = authority.find(']');
        if (close == std::string_view::npos)
            bad_endpoint(setting, url, "The IPv6 address is not closed with \"]\".");
        host = authority.substr(0, close + 1);
        std::string_view after = authority.substr(close + 1);
        if (!after.empty()) {
            if (after.front() != ':')
                bad_endpoint(setting, url, "Unexpected text after the IPv6 address.");
            port = after.substr(1);
        }
    } else {
        size_t colon = authority.rfind(':');
        if (colon != std::string_view::npos) {
            host = authority.substr(0, colon);
            port = authority.substr(colon + 1);
        }
    }
    if (host.empty() || host == "[]")
        bad_endpoint(setting, url, "The endpoint has no host.");
    for (char c : host) {
        unsigned char u = static_cast<unsigned char>(c);
        if (!(std::isalnum(u) || c == '-' || c == '.' || c == '_' || c == '[' || c == ']' ||
              c == ':'))
            bad_endpoint(setting, url, "The host name contains a character that is not allowed.");
        ep.host += ascii_lower(c);
    }
    if (!port.empty() || (authority.back() == ':')) {
        if (port.empty() || port.size() > 5)
            bad_endpoint(setting, url, "The port must be a number from 1 to 65535.");
        int p = 0;
        for (char c : port) {
            if (!std::isdigit(static_cast<unsigned char>(c)))
                bad_endpoint(setting, url, "The port must be a number from 1 to 65535.");
            p = p * 10 + (c - '0');
        }
        if (p < 1 || p > 65535)
            bad_endpoint(setting, url, "The port must be a number from 1 to 65535.");
        bool is_default = (ep.scheme == "https" && p == 443) || (ep.scheme == "http" && p == 80);
        ep.port = is_default ? 0 : p;
    }
    // The base path, without empty segments or a trailing slash.
    size_t i = 0;
    while (i < path.size()) {
        while (i < path.size() && path[i] == '/')
            i++;
        size_t end = path.find('/', i);
        if (end == std::string_view::npos)
            end = path.size();
        if (end > i) {
            std::string_view segment = path.substr(i, end - i);
            if (segment == "." || segment == "..")
                bad_endpoint(setting, url, "The endpoint path cannot contain \".\" or \"..\".");
            ep.base_path += '/';
            ep.base_path += percent_encode(percent_decode(segment), false);
        }
        i = end;
    }
    return ep;
}

} // namespace convoy::http
