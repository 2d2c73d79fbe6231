// Azure Storage Shared Key authorization (Blob service, x-ms-version 2015-02-21
// and later: a Content-Length of 0 is signed as the empty string).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "core/core_only.hpp"

namespace convoy::azure_sign {

using Pairs = std::vector<std::pair<std::string, std::string>>;

struct Request {
    std::string method;  // "PUT", ...
    std::string account; // the storage account name
    // The request path exactly as sent (percent-encoded), starting with '/'. With
    // an emulator's path-style URL it starts with "/<account>", so the account
    // appears twice in the canonicalized resource, as the emulator expects.
    std::string path;
    Pairs query;   // decoded names and values (a SAS is not part of what is signed)
    Pairs headers; // every header sent; any case
};

// The string-to-sign: VERB, the eleven standard headers, the canonicalized
// x-ms-* headers and the canonicalized resource.
std::string string_to_sign(const Request &request);

// Base64 HMAC-SHA256 of string_to_sign with the decoded account key.
std::string signature(const std::string &string_to_sign, const std::string &decoded_key);

// "SharedKey <account>:<signature>"
std::string authorization(const std::string &account, const std::string &signature);

// An RFC 1123 date for x-ms-date, e.g. "Fri, 26 Jun 2015 23:39:12 GMT".
std::string http_date(long long unix_seconds);

} // namespace convoy::azure_sign
