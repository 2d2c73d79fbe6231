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

std::string stored_name(const std::string &prefix, const std::string &key, size_t max_bytes,
                        std::string_view names_what) {
    validate_object_key(key);
    std::string name = join_prefix(prefix, key);
    if (name.size() > max_bytes)
        throw Error(ErrorKind::invalid_key,
                    "invalid object key \"" + printable_key(key) + "\": the key is too long",
                    std::string(names_what) + ", prefix included, are at most " +
                        std::to_string(max_bytes) + " bytes.");
    return name;
}

std::string listing_prefix(const std::string &prefix, const std::string &key_prefix) {
    return prefix.empty() ? key_prefix : prefix + "/" + key_prefix;
}

std::optional<std::string> listed_key(const std::string &prefix, std::string_view name) {
    if (!prefix.empty()) {
        if (name.size() <= prefix.size() || name.compare(0, prefix.size(), prefix) != 0 ||
            name[prefix.size()] != '/')
            return std::nullopt;
        name.remove_prefix(prefix.size() + 1);
    }
    try {
        validate_object_key(name);
    } catch (const Error &) {
        return std::nullopt;
    }
    return std::string(name);
}

StoreAddress parse_store_address(const std::string &endpoint, const std::string &default_url,
                                 std::string_view prefix, std::string_view what) {
    std::string url = endpoint.empty() ? default_url : endpoint;
    return StoreAddress{parse_endpoint(url, "the " + std::string(what) + " endpoint"),
                        normalize_prefix(prefix, "the " + std::string(what) + " prefix")};
}

} // namespace convoy::http
