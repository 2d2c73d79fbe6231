// The text forms of a manifest's times and LSNs: each value has exactly one
// spelling, and a parser accepts only that spelling, so a manifest that was
// altered by hand or damaged reads as corrupt instead of as another value.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/core_only.hpp"

namespace convoy {

// "2026-11-25T06:01:40.123456Z" (RFC 3339, UTC, microseconds). Years outside
// 0000..9999 have a sign or more digits (ISO 8601 expanded years), and the
// ends of the range stand for PostgreSQL's infinite values: INT64_MAX is
// "infinity", INT64_MIN "-infinity".
std::string format_manifest_time(int64_t unix_micros);
std::optional<int64_t> parse_manifest_time(std::string_view text);

// "16/B374D848", as PostgreSQL prints a pg_lsn.
std::string format_lsn(uint64_t lsn);
std::optional<uint64_t> parse_lsn(std::string_view text);

} // namespace convoy
