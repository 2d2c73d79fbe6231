// Just enough XML for object-store replies and request bodies: the text of the
// first element with a given name, and escaping.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/core_only.hpp"

namespace convoy::http {

// The unescaped text content of the first element named tag (namespace
// prefixes are not supported), or nullopt. Nested markup inside it is kept.
std::optional<std::string> xml_element_text(std::string_view xml, std::string_view tag);

// Escapes &, <, >, " and ' for element text and attribute values.
std::string xml_escape(std::string_view text);

} // namespace convoy::http
