// Reads the timestamps backup lines and object names hold back into
// microseconds since the epoch, without PostgreSQL: "2026-11-25T06:01:40.123456Z"
// (object names) and "2026-11-25T06:01:40.5+00:00" (to_jsonb's timestamptz).
#pragma once

#include <cstdint>
#include <string_view>

#include "core/core_only.hpp"

namespace convoy::json {

// Parses YYYY-MM-DDTHH:MM:SS, an optional fraction of 1 to 6 digits, then "Z"
// or an offset "+HH:MM" / "-HH:MM" (years 0001 to 9999). Returns false for
// anything else, which the caller hands to PostgreSQL's own parser instead.
bool parse_timestamp_utc(std::string_view text, int64_t &unix_micros) noexcept;

} // namespace convoy::json
