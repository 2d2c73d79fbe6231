// Naming helpers shared by the object-store clients.
#pragma once

#include <string>
#include <string_view>

#include "core/core_only.hpp"

namespace convoy::http {


// A prefix setting without leading or trailing '/'; throws Error(invalid_config)
// (naming setting) if what remains is not a valid relative path.
std::string normalize_prefix(std::string_view prefix, std::string_view setting);

// prefix + "/" + key, or key alone when prefix is empty.
std::string join_prefix(const std::string &prefix, const std::string &key);

// The Content-Type an object is stored with, from its name: application/gzip for
// ".gz", application/x-ndjson for ".jsonl", application/json for ".json",
// application/octet-stream otherwise.
std::string content_type_for(std::string_view name);

} // namespace convoy::http
