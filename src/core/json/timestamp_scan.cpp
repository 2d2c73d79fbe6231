#include "core/json/timestamp_scan.hpp"

namespace convoy::json {

namespace {

bool digits(std::string_view text, size_t pos, size_t count, int &value) noexcept {
    if (pos + count > text.size())
        return false;
    value = 0;
    for (size_t i = pos; i < pos + count; i++) {
        char c = text[i];
        if (c < '0' || c > '9')
            return false;
        value = value * 10 + (c - '0');
    }
    return true;
}

bool leap(int year) noexcept { return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0; }

int days_in_month(int year, int month) noexcept {
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return month == 2 && leap(year) ? 29 : days[month - 1];
}

// Days from 1970-01-01 to the given proleptic Gregorian date (H. Hinnant's
// days_from_civil).
int64_t days_from_civil(int64_t y, int m, int d) noexcept {
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const int64_t yoe = y - era * 400;
    const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

} // namespace

bool parse_timestamp_utc(std::string_view t, int64_t &unix_micros) noexcept {
    int year, month, day, hour, minute, second;
    if (!digits(t, 0, 4, year) || t.size() < 19 || t[4] != '-' || !digits(t, 5, 2, month) ||
        t[7] != '-' || !digits(t, 8, 2, day) || t[10] != 'T' || !digits(t, 11, 2, hour) ||
        t[13] != ':' || !digits(t, 14, 2, minute) || t[16] != ':' || !digits(t, 17, 2, second))
        return false;
    if (year < 1 || month < 1 || month > 12 || day < 1 || day > days_in_month(year, month) ||
        hour > 23 || minute > 59 || second > 59)
        return false;
    size_t pos = 19;
    int64_t micros = 0;
    if (pos < t.size() && t[pos] == '.') {
        pos++;
        size_t count = 0;
        while (pos < t.size() && t[pos] >= '0' && t[pos] <= '9' && count < 7) {
            micros = micros * 10 + (t[pos] - '0');
            pos++;
            count++;
        }
        if (count == 0 || count > 6)
            return false;
        for (; count < 6; count++)
            micros *= 10;
    }
    int64_t offset_secs = 0;
    if (pos < t.size() && t[pos] == 'Z') {
        pos++;
    } else if (pos < t.size() && (t[pos] == '+' || t[pos] == '-')) {
        int oh, om;
        if (!digits(t, pos + 1, 2, oh) || pos + 3 >= t.size() || t[pos + 3] != ':' ||
            !digits(t, pos + 4, 2, om) || oh > 15 || om > 59)
            return false;
        offset_secs = (int64_t(oh) * 3600 + om * 60) * (t[pos] == '+' ? 1 : -1);
        pos += 6;
    } else {
        return false;
    }
    if (pos != t.size())
        return false;
    int64_t secs = days_from_civil(year, month, day) * 86400 + int64_t(hour) * 3600 + minute * 60 +
                   second - offset_secs;
    unix_micros = secs * 1000000 + micros;
    return true;
}

} // namespace convoy::json
