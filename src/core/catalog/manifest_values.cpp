#include "core/catalog/manifest_values.hpp"

#include <cinttypes>
#include <cstdio>
#include <limits>

#include "core/batch/object_key.hpp"

namespace convoy {

namespace {

constexpr int64_t micros_per_day = int64_t(86400) * 1000000;

// Days from 1970-01-01 to the proleptic Gregorian date y-m-d (negative before
// it): Howard Hinnant's days_from_civil, the inverse of object_key.cpp's.
int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const int64_t yoe = y - era * 400;                                     // [0, 399]
    const int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;   // [0, 365]
    const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;             // [0, 146096]
    return era * 146097 + doe - 719468;
}

// Reads exactly `digits` decimal digits at text[*pos].
bool read_digits(std::string_view text, size_t *pos, size_t digits, int64_t *value) {
    if (*pos + digits > text.size())
        return false;
    int64_t v = 0;
    for (size_t i = 0; i < digits; i++) {
        char c = text[*pos + i];
        if (c < '0' || c > '9')
            return false;
        v = v * 10 + (c - '0');
    }
    *pos += digits;
    *value = v;
    return true;
}

bool read_char(std::string_view text, size_t *pos, char expected) {
    if (*pos >= text.size() || text[*pos] != expected)
        return false;
    ++*pos;
    return true;
}

} // namespace

std::string format_manifest_time(int64_t unix_micros) {
    if (unix_micros == std::numeric_limits<int64_t>::max())
        return "infinity";
    if (unix_micros == std::numeric_limits<int64_t>::min())
        return "-infinity";
    return format_rfc3339_utc(unix_micros);
}

std::optional<int64_t> parse_manifest_time(std::string_view text) {
    if (text == "infinity")
        return std::numeric_limits<int64_t>::max();
    if (text == "-infinity")
        return std::numeric_limits<int64_t>::min();
    size_t pos = 0;
    bool negative = read_char(text, &pos, '-');
    // The year runs up to the next '-': 4 to 6 digits (int64 microseconds
    // reach about 292277).
    size_t year_end = text.find('-', pos);
    if (year_end == std::string_view::npos || year_end - pos < 4 || year_end - pos > 6)
        return std::nullopt;
    int64_t year, month, day, hour, minute, second, micros;
    if (!read_digits(text, &pos, year_end - pos, &year) || !read_char(text, &pos, '-') ||
        !read_digits(text, &pos, 2, &month) || !read_char(text, &pos, '-') ||
        !read_digits(text, &pos, 2, &day) || !read_char(text, &pos, 'T') ||
        !read_digits(text, &pos, 2, &hour) || !read_char(text, &pos, ':') ||
        !read_digits(text, &pos, 2, &minute) || !read_char(text, &pos, ':') ||
        !read_digits(text, &pos, 2, &second) || !read_char(text, &pos, '.') ||
        !read_digits(text, &pos, 6, &micros) || !read_char(text, &pos, 'Z') || pos != text.size())
        return std::nullopt;
    if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 59)
        return std::nullopt;
    if (negative)
        year = -year;
    int64_t day_micros = ((hour * 60 + minute) * 60 + second) * 1000000 + micros;
    // Wide enough for any year of up to 6 digits; the first day in range
    // starts before INT64_MIN, so the sum is checked, not its parts.
    __int128 wide = __int128(days_from_civil(year, unsigned(month), unsigned(day))) *
                        micros_per_day + day_micros;
    if (wide < std::numeric_limits<int64_t>::min() || wide > std::numeric_limits<int64_t>::max())
        return std::nullopt;
    int64_t result = int64_t(wide);
    // One spelling per value: a day past the month's end, a year with a leading
    // zero too many or a value at an infinite end would format differently.
    if (format_manifest_time(result) != text)
        return std::nullopt;
    return result;
}

std::string format_lsn(uint64_t lsn) {
    char buf[24];
    std::snprintf(buf, sizeof(buf), "%" PRIX32 "/%" PRIX32, uint32_t(lsn >> 32), uint32_t(lsn));
    return buf;
}

std::optional<uint64_t> parse_lsn(std::string_view text) {
    size_t slash = text.find('/');
    if (slash == std::string_view::npos)
        return std::nullopt;
    uint64_t halves[2];
    std::string_view parts[2] = {text.substr(0, slash), text.substr(slash + 1)};
    for (int i = 0; i < 2; i++) {
        if (parts[i].empty() || parts[i].size() > 8)
            return std::nullopt;
        uint64_t v = 0;
        for (char c : parts[i]) {
            int digit = c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
            if (digit < 0)
                return std::nullopt;
            v = v * 16 + uint64_t(digit);
        }
        halves[i] = v;
    }
    uint64_t lsn = (halves[0] << 32) | halves[1];
    if (format_lsn(lsn) != text) // no leading zeros
        return std::nullopt;
    return lsn;
}

} // namespace convoy
