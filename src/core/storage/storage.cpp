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

void validate_object_key(std::string_view key) {
    if (key.empty())
        refuse_key(key, "the key is empty");
    if (key.find('\0') != std::string_view::npos)
        refuse_key(key, "the key contains a NUL byte");
    if (key.find('\\') != std::string_view::npos)
        refuse_key(key, "the key contains a backslash");
    if (key.front() == '/')
        refuse_key(key, "the key must be a relative path");

    size_t start = 0;
    for (;;) {
        size_t slash = key.find('/', start);
        std::string_view component =
            key.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
        if (component.empty())
            refuse_key(key, "the key contains an empty path component");
        if (component == "." || component == "..")
            refuse_key(key, "the key contains a \".\" or \"..\" path component");
        if (slash == std::string_view::npos)
            return;
        start = slash + 1;
    }
}

// Placeholders until every store implements reading (issue 12); removed then.
void Storage::list(const std::string &, const std::function<void(const ListedObject &)> &) {
    throw Error(ErrorKind::internal, "listing is not implemented for " + describe());
}

std::unique_ptr<ObjectReader> Storage::open_read(const std::string &) {
    throw Error(ErrorKind::internal, "reading is not implemented for " + describe());
}

} // namespace convoy
