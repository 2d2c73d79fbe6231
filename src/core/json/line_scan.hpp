// One pass over a backup line: checks that it is a JSON object as PostgreSQL's
// json type would accept it (UTF-8 included), and finds the raw text of the
// top-level members that verify and restore need (key columns, time column).
//
// No allocation and no exception: the caller hands the scratch space, so the
// PostgreSQL layer may call it too.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/core_only.hpp"

namespace convoy::json {

// A top-level member's value as it is written in the line: line[begin, begin + length).
struct MemberValue {
    uint32_t begin;
    uint32_t length;
    bool present;
};

struct LineScan {
    bool valid;
    const char *error;   // why the line is not valid (static text), else nullptr
    size_t error_offset; // byte offset of the problem
    bool nul_escape;     // some string holds the escape \u0000
    bool escaped_key;    // a top-level key holds an escape (matched as written)
};

// Nesting levels the scanner follows; a deeper line is refused (PostgreSQL
// itself runs out of stack well before this depth).
constexpr size_t max_scan_depth = 65536;

// Scans line. names[i] is a member name as it is written between the quotes
// of the key (escaped as the encoder writes it), the names all different;
// values[i] is set to its value (the last one if the key repeats), or to
// absent. depth_stack must hold
// max_scan_depth bytes. A line longer than 4 GiB is refused.
LineScan scan_line(std::string_view line, const std::string_view *names, size_t name_count,
                   MemberValue *values, uint8_t *depth_stack) noexcept;

} // namespace convoy::json
