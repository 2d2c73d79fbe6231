#include "core/storage/storage.hpp"

#include <cstdio>

#include "core/error.hpp"

namespace convoy {

namespace {

[[noreturn]] void refuse_key(std::string_view key, const char *reason) {
    throw Error(ErrorKind::invalid_key,
                "invalid object key \"" + printable_key(key) + "\": " + reason);
}

} // namespace

std::string printable_key(std::string_view key) {
    std::string shown;
    for (char c : key) {
        unsigned char byte = static_cast<unsigned char>(c);
        if (byte >= 0x20 && byte != 0x7f) {
            shown += c;
        } else {
            char escaped[5];
            std::snprintf(escaped, sizeof(escaped), "\\x%02x", byte);
            shown += escaped;
        }
    }
    return shown;
}

namespace {

// Why key is not a valid key (subject is "key" or "prefix"), or "" if it is.
std::string key_problem(std::string_view key, const char *subject) {
    std::string the = std::string("the ") + subject;
    if (key.empty())
        return the + " is empty";
    if (key.find('\0') != std::string_view::npos)
        return the + " contains a NUL byte";
    if (key.find('\\') != std::string_view::npos)
        return the + " contains a backslash";
    if (key.front() == '/')
        return the + " must be a relative path";

    size_t start = 0;
    for (;;) {
        size_t slash = key.find('/', start);
        std::string_view component =
            key.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
        if (component.empty())
            return the + " contains an empty path component";
        if (component == "." || component == "..")
            return the + " contains a \".\" or \"..\" path component";
        if (slash == std::string_view::npos)
            return {};
        start = slash + 1;
    }
}

} // namespace

void validate_object_key(std::string_view key) {
    std::string problem = key_problem(key, "key");
    if (!problem.empty())
        refuse_key(key, problem.c_str());
}

void validate_key_prefix(std::string_view prefix) {
    if (prefix.empty())
        return;
    // Up to the last '/', whole components; after it, the start of a name.
    size_t slash = prefix.rfind('/');
    std::string_view name = slash == std::string_view::npos ? prefix : prefix.substr(slash + 1);
    std::string problem;
    if (prefix.front() == '/')
        problem = "the prefix must be a relative path";
    else if (name.find('\0') != std::string_view::npos)
        problem = "the prefix contains a NUL byte";
    else if (name.find('\\') != std::string_view::npos)
        problem = "the prefix contains a backslash";
    else if (slash != std::string_view::npos)
        problem = key_problem(prefix.substr(0, slash), "prefix");
    if (!problem.empty())
        throw Error(ErrorKind::invalid_key,
                    "invalid object key prefix \"" + printable_key(prefix) + "\": " + problem);
}

} // namespace convoy
