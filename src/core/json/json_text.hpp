// JSON text primitives shared by both backup modes.
//
// Header-only templates over an "appender" (any object with
// append(const char *, size_t)), so the PostgreSQL layer can write straight into a
// StringInfo and the unit tests into a std::string, with no copy and no per-row
// allocation. Functions here never throw unless the appender does.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/core_only.hpp"
#include "core/hex_digits.hpp"

namespace convoy::json {

// Appends s escaped for the inside of a JSON string literal (no quotes): '"',
// '\\' and every byte below 0x20 are escaped, as PostgreSQL's escape_json does
// (\b \f \n \r \t, else \u00XX). Bytes >= 0x80 are copied as they are: the
// caller hands UTF-8. Escaping goes byte by byte, so a string may be appended
// in pieces.
template <class Out>
void append_string_body(Out &out, std::string_view s) {
    constexpr const char *hex = hex_digits_lower;
    size_t run_start = 0;
    for (size_t i = 0; i < s.size(); i++) {
        unsigned char c = static_cast<unsigned char>(s[i]);
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        if (i > run_start)
            out.append(s.data() + run_start, i - run_start);
        run_start = i + 1;
        switch (c) {
        case '"': out.append("\\\"", 2); break;
        case '\\': out.append("\\\\", 2); break;
        case '\b': out.append("\\b", 2); break;
        case '\f': out.append("\\f", 2); break;
        case '\n': out.append("\\n", 2); break;
        case '\r': out.append("\\r", 2); break;
        case '\t': out.append("\\t", 2); break;
        default: {
            char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 0xF]};
            out.append(esc, 6);
        }
        }
    }
    if (s.size() > run_start)
        out.append(s.data() + run_start, s.size() - run_start);
}

// Appends s as a JSON string literal, quotes included (see append_string_body).
template <class Out>
void append_string(Out &out, std::string_view s) {
    out.append("\"", 1);
    append_string_body(out, s);
    out.append("\"", 1);
}

// Appends bytes as the JSON string "\\x0a1b..." — bytea's hex output format, which
// is what to_jsonb() shows for bytea with the default bytea_output.
template <class Out>
void append_bytea_hex(Out &out, const uint8_t *data, size_t len) {
    constexpr const char *hex = hex_digits_lower;
    out.append("\"\\\\x", 4);
    char block[256];
    size_t used = 0;
    for (size_t i = 0; i < len; i++) {
        block[used++] = hex[data[i] >> 4];
        block[used++] = hex[data[i] & 0xF];
        if (used == sizeof(block)) {
            out.append(block, used);
            used = 0;
        }
    }
    if (used)
        out.append(block, used);
    out.append("\"", 1);
}

// True when text is a JSON number, so a numeric type's output can be embedded
// unquoted. "NaN", "Infinity" and "-Infinity" are not, and to_jsonb() quotes them.
bool is_json_number(std::string_view text) noexcept;

} // namespace convoy::json
