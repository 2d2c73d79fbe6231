#include "core/storage/http/object_names.hpp"

#include <cstdio>

#include "core/error.hpp"
#include "core/storage/storage.hpp"

namespace convoy::http {

namespace {

bool ends_with(std::string_view s, std::string_view suffix) {
    return s.size() >= suffix.size() &&
           s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

} // namespace

std::string normalize_prefix(std::string_view prefix, std::string_view setting) {
    while (!prefix.empty() && prefix.front() == '/')
        prefix.remove_prefix(1);
    while (!prefix.empty() && prefix.back() == '/')
        prefix.remove_suffix(1);
    if (prefix.empty())
        return {};
    try {
        validate_object_key(prefix);
    } catch (const Error &e) {
        throw Error(ErrorKind::invalid_config,
                    "invalid value for " + std::string(setting) + ": \"" + printable_key(prefix) + "\"",
                    "The prefix must be a relative path of non-empty components, none of them "
                    "\".\" or \"..\".");
    }
    return std::string(prefix);
}

std::string join_prefix(const std::string &prefix, const std::string &key) {
    if (prefix.empty())
        return key;
    return prefix + "/" + key;
}

std::string content_type_for(std::string_view name) {
    if (ends_with(name, ".gz"))
        return "application/gzip";
    if (ends_with(name, ".jsonl"))
        return "application/x-ndjson";
    if (ends_with(name, ".json"))
        return "application/json";
    return "application/octet-stream";
}

} // namespace convoy::http
