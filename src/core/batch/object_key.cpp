#include "core/batch/object_key.hpp"
#include "core/hex_digits.hpp"

#include <cinttypes>
#include <cstdio>

namespace convoy {

namespace {

constexpr int64_t micros_per_second = 1000000;
constexpr int64_t seconds_per_day = 86400;

// Floored division: quotient rounded towards negative infinity and a remainder in
// [0, divisor), so times before 1970 fall into the right second and day (C++
// division truncates towards zero). Never overflows for a positive divisor > 1.
struct FloorDiv {
    int64_t quot;
    int64_t rem;
};
FloorDiv floor_div(int64_t a, int64_t b) noexcept {
    FloorDiv r{a / b, a % b};
    if (r.rem < 0) {
        r.rem += b;
        r.quot--;
    }
    return r;
}

struct CivilTime {
    int64_t year;
    unsigned month;  // 1..12
    unsigned day;    // 1..31
    unsigned hour;   // 0..23
    unsigned minute; // 0..59
    unsigned second; // 0..59
    unsigned micros; // 0..999999
};

// Howard Hinnant's days_from_civil inverse: proleptic Gregorian calendar date of
// the day that is `days` days after 1970-01-01 (negative before it).
void civil_from_days(int64_t days, int64_t &year, unsigned &month, unsigned &day) noexcept {
    days += 719468; // days from 0000-03-01 to 1970-01-01
    const int64_t era = floor_div(days, 146097).quot;
    const int64_t doe = days - era * 146097;                                   // [0, 146096]
    const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365; // [0, 399]
    const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);               // [0, 365]
    const int64_t mp = (5 * doy + 2) / 153;                                    // [0, 11]
    day = static_cast<unsigned>(doy - (153 * mp + 2) / 5 + 1);
    month = static_cast<unsigned>(mp < 10 ? mp + 3 : mp - 9);
    year = yoe + era * 400 + (month <= 2 ? 1 : 0);
}

CivilTime to_civil(int64_t unix_micros) noexcept {
    CivilTime t;
    FloorDiv seconds = floor_div(unix_micros, micros_per_second);
    t.micros = static_cast<unsigned>(seconds.rem);
    FloorDiv days = floor_div(seconds.quot, seconds_per_day);
    t.hour = static_cast<unsigned>(days.rem / 3600);
    t.minute = static_cast<unsigned>(days.rem / 60 % 60);
    t.second = static_cast<unsigned>(days.rem % 60);
    civil_from_days(days.quot, t.year, t.month, t.day);
    return t;
}

// Four digits for years 0..9999 as RFC 3339 requires; a sign and as many digits
// as needed outside that range (ISO 8601's expanded years), which only absurd
// inputs reach.
std::string format_date(const CivilTime &t) {
    char buf[48];
    // (The range of int64 microseconds is about +-292277 years, so -year cannot overflow.)
    std::snprintf(buf, sizeof(buf), "%s%04" PRId64 "-%02u-%02u", t.year < 0 ? "-" : "",
                  t.year < 0 ? -t.year : t.year, t.month, t.day);
    return buf;
}

} // namespace

std::string format_date_utc(int64_t unix_micros) { return format_date(to_civil(unix_micros)); }

std::string format_rfc3339_utc(int64_t unix_micros) {
    CivilTime t = to_civil(unix_micros);
    char buf[48];
    std::snprintf(buf, sizeof(buf), "T%02u:%02u:%02u.%06uZ", t.hour, t.minute, t.second, t.micros);
    return format_date(t) + buf;
}

std::string encode_key_component(std::string_view name) {
    constexpr const char *hex = hex_digits_upper;
    // A name made only of dots would be read as "." or ".." (or be ambiguous with
    // them): encode its dots so that it stays an ordinary component.
    bool only_dots = name.find_first_not_of('.') == std::string_view::npos;
    std::string out;
    out.reserve(name.size());
    for (char c : name) {
        unsigned char u = static_cast<unsigned char>(c);
        bool plain = (u >= 'A' && u <= 'Z') || (u >= 'a' && u <= 'z') || (u >= '0' && u <= '9') ||
                     u == '_' || u == '-' || (u == '.' && !only_dots);
        if (plain) {
            out += c;
        } else {
            out += '%';
            out += hex[u >> 4];
            out += hex[u & 0xF];
        }
    }
    return out;
}

std::string object_key(const BatchOrigin &origin) {
    CivilTime t = to_civil(origin.commit_unix_micros);
    std::string date = format_date(t);

    char tail[96];
    int n = std::snprintf(tail, sizeof(tail), "T%02u:%02u:%02u.%06uZ_%016" PRIX64, t.hour, t.minute,
                          t.second, t.micros, origin.commit_lsn);
    if (origin.row_in_transaction != 0)
        // 20 digits, as many as a uint64 has: the parts of a transaction sort
        // in the order of their rows.
        std::snprintf(tail + n, sizeof(tail) - size_t(n), "_%020" PRIu64,
                      origin.row_in_transaction);

    std::string key;
    key.reserve(64 + origin.table.size() * 3);
    key += "backup/";
    key += date;
    key += '/';
    key += encode_key_component(origin.table);
    key += '/';
    key += date;
    key += tail;
    key += ".jsonl.gz";
    return key;
}

std::string export_object_key(std::string_view table, int64_t start_unix_micros,
                              int64_t end_unix_micros) {
    std::string key = "backup/";
    key += format_date_utc(start_unix_micros);
    key += '/';
    key += encode_key_component(table);
    key += '/';
    key += format_rfc3339_utc(start_unix_micros);
    key += "_export_";
    key += format_rfc3339_utc(end_unix_micros);
    key += ".jsonl.gz";
    return key;
}

} // namespace convoy
