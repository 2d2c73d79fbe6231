// Naming helpers shared by the object-store clients.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/core_only.hpp"
#include "core/storage/http/url.hpp"

namespace convoy::http {


// A prefix setting without leading or trailing '/'; throws Error(invalid_config)
// (naming setting) if what remains is not a valid relative path.
std::string normalize_prefix(std::string_view prefix, std::string_view setting);

// prefix + "/" + key, or key alone when prefix is empty.
std::string join_prefix(const std::string &prefix, const std::string &key);

// The name a key is stored under: validated (validate_object_key), joined to the
// prefix, and at most max_bytes long; names_what says whose names the limit is
// for in the error ("S3 keys", "Azure blob names").
std::string stored_name(const std::string &prefix, const std::string &key, size_t max_bytes,
                        std::string_view names_what);

// What list() asks the store for: the names that start with the prefix
// setting, a '/', and key_prefix (all of the prefix's names when key_prefix is
// empty, never those of "prefix-other/").
std::string listing_prefix(const std::string &prefix, const std::string &key_prefix);

// The key of a name the store listed: the name without the prefix setting and
// its '/'. nullopt for a name outside the prefix, or one that is no valid key
// (a "directory" marker "a/", "a//b": other tools' objects, which list() skips
// as open_read() would refuse them).
std::optional<std::string> listed_key(const std::string &prefix, std::string_view name);

// The store's endpoint URL (default_url when endpoint is empty) and prefix
// setting, checked; what names the store in errors ("S3", "Azure").
struct StoreAddress {
    Endpoint endpoint;
    std::string prefix;
};
StoreAddress parse_store_address(const std::string &endpoint, const std::string &default_url,
                                 std::string_view prefix, std::string_view what);

// The Content-Type an object is stored with, from its name: application/gzip for
// ".gz", application/x-ndjson for ".jsonl", application/json for ".json",
// application/octet-stream otherwise.
std::string content_type_for(std::string_view name);

} // namespace convoy::http
