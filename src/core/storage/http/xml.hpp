// Just enough XML for object-store replies and request bodies: the text of the
// first element with a given name, every element with a name, and escaping.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "core/core_only.hpp"

namespace convoy::http {

// The unescaped text content of the first element named tag (namespace
// prefixes are not supported), or nullopt. Nested markup inside it is kept.
std::optional<std::string> xml_element_text(std::string_view xml, std::string_view tag);

// One element: what its open tag holds after the name (attributes), and its
// content, still escaped.
struct XmlElement {
    std::string_view attributes;
    std::string_view inner;
};

// Calls each() for every element named tag, in document order (one inside
// another of the same name is not supported): the entries of a listing.
void xml_for_each(std::string_view xml, std::string_view tag,
                  const std::function<void(const XmlElement &)> &each);

// Resolves the predefined entities and character references.
std::string xml_unescape(std::string_view text);

// Escapes &, <, >, " and ' for element text and attribute values.
std::string xml_escape(std::string_view text);

} // namespace convoy::http
