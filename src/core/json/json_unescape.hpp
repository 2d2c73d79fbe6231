// The text a JSON string stands for, as PostgreSQL's json functions read it
// in a UTF-8 database (json_populate_record and friends): escapes replaced,
// \uXXXX written as UTF-8, surrogate pairs joined.
#pragma once

#include <cstddef>
#include <string_view>

#include "core/core_only.hpp"

namespace convoy::json {

// body is the inside of a valid JSON string literal (no quotes); out must hold
// body.size() bytes, which the text never exceeds. Returns false, writing
// nothing useful, for what PostgreSQL refuses: \u0000 and unpaired
// surrogates (the caller lets PostgreSQL say so).
bool unescape_string(std::string_view body, char *out, size_t &out_len) noexcept;

} // namespace convoy::json
