// AWS Signature Version 4 for requests signed in the Authorization header.
//
// The signer is a pure function of its inputs, so it is checked against the
// published AWS test vectors. It canonicalises the way S3 does: the path is
// encoded once (each byte outside A-Z a-z 0-9 - . _ ~ and '/' as %XX) and never
// normalised, the query is encoded and sorted, and every header passed in is
// signed. The caller supplies x-amz-date (and x-amz-content-sha256,
// x-amz-security-token when it wants them signed) among the headers.
#pragma once

#include <ctime>
#include <string>
#include <utility>
#include <vector>

#include "core/core_only.hpp"

namespace convoy::sigv4 {

using Pairs = std::vector<std::pair<std::string, std::string>>;

struct Credentials {
    std::string access_key;
    std::string secret_key;
    std::string session_token; // empty when not using temporary credentials
};

struct Request {
    std::string method;       // "GET", "PUT", ...
    std::string path;         // decoded path starting with '/', e.g. "/bucket/a:b=c"
    Pairs query;              // decoded names and values; a valueless parameter has ""
    Pairs headers;            // everything to sign, host included; any case, any order
    std::string payload_hash; // lowercase hex SHA-256 of the body
};

struct Signature {
    std::string canonical_request;
    std::string string_to_sign;
    std::string signed_headers; // "host;x-amz-date"
    std::string signature;      // lowercase hex
    std::string authorization;  // the Authorization header's value
};

// amz_date: "YYYYMMDDTHHMMSSZ", the value of the x-amz-date header.
Signature sign(const Request &request, const Credentials &credentials, const std::string &region,
               const std::string &service, const std::string &amz_date);

// The pieces, exposed for tests.
std::string canonical_uri(const std::string &path);
std::string canonical_query(const Pairs &query);
// Lowercased names, values trimmed with inner runs of spaces collapsed, repeated
// names joined with ',' in the order given, sorted by name. Returns the canonical
// header block (each "name:value\n") and sets signed_headers.
std::string canonical_headers(const Pairs &headers, std::string &signed_headers);

// "YYYYMMDDTHHMMSSZ" for t in UTC.
std::string amz_date(std::time_t t);

// The hex SHA-256 of an empty body.
extern const char empty_payload_hash[];

} // namespace convoy::sigv4
