#include "core/batch/object_key.hpp"

#include <gtest/gtest.h>
#include <time.h>

#include <cinttypes>
#include <cstdio>
#include <limits>
#include <random>
#include <string>

#include "core/storage/storage.hpp"

namespace {

using convoy::BatchOrigin;
using convoy::encode_key_component;
using convoy::format_date_utc;
using convoy::format_rfc3339_utc;
using convoy::object_key;

constexpr int64_t sec = 1000000;
constexpr int64_t day = 86400 * sec;
// 2026-11-25T06:01:40.123456Z
constexpr int64_t example_time = 1795586500123456;
// 2026-11-25T00:00:00Z
constexpr int64_t midnight_2026_11_25 = 1795564800000000;

TEST(ObjectKey, ExampleFromTheHeader) {
    BatchOrigin o{"convoy.events", example_time, 0x16B3748, 0};
    EXPECT_EQ(object_key(o), "backup/2026-11-25/convoy.events/"
                             "2026-11-25T06:01:40.123456Z_00000000016B3748.jsonl.gz");
    o.row_in_transaction = 3;
    EXPECT_EQ(object_key(o), "backup/2026-11-25/convoy.events/"
                             "2026-11-25T06:01:40.123456Z_00000000016B3748_00000000000000000003."
                             "jsonl.gz");
    o.row_in_transaction = std::numeric_limits<uint64_t>::max();
    EXPECT_EQ(object_key(o), "backup/2026-11-25/convoy.events/"
                             "2026-11-25T06:01:40.123456Z_00000000016B3748_18446744073709551615."
                             "jsonl.gz");
}

// The parts of one transaction sort in the order of their rows: "_994" would
// sort after "_1985".
TEST(ObjectKey, PartsOfATransactionSortInOrder) {
    BatchOrigin o{"convoy.events", example_time, 0x16B3748, 994};
    std::string earlier = object_key(o);
    o.row_in_transaction = 1985;
    std::string later = object_key(o);
    EXPECT_LT(earlier, later);
    EXPECT_EQ(earlier.size(), later.size());
    EXPECT_NE(earlier.find("_00000000000000000994.jsonl.gz"), std::string::npos) << earlier;
}

TEST(ObjectKey, LsnIsSixteenUpperCaseHexDigits) {
    BatchOrigin o{"s.t", 0, 0, 0};
    EXPECT_EQ(object_key(o), "backup/1970-01-01/s.t/1970-01-01T00:00:00.000000Z_0000000000000000.jsonl.gz");
    o.commit_lsn = 0xDEADBEEFull;
    EXPECT_NE(object_key(o).find("_00000000DEADBEEF.jsonl.gz"), std::string::npos);
    o.commit_lsn = 0xFFFFFFFFFFFFFFFFull;
    EXPECT_NE(object_key(o).find("_FFFFFFFFFFFFFFFF.jsonl.gz"), std::string::npos);
    o.commit_lsn = 0x1A2B3C4D5E6F7081ull;
    EXPECT_NE(object_key(o).find("_1A2B3C4D5E6F7081.jsonl.gz"), std::string::npos);
}

TEST(ObjectKey, KeysAreValidAndTableNamesAreEncoded) {
    BatchOrigin o{"\"My Schema\".\"a/b\"", example_time, 1, 2};
    std::string key = object_key(o);
    EXPECT_EQ(key, "backup/2026-11-25/%22My%20Schema%22.%22a%2Fb%22/"
                   "2026-11-25T06:01:40.123456Z_0000000000000001_00000000000000000002.jsonl.gz");
    EXPECT_NO_THROW(convoy::validate_object_key(key));
    for (const char *table : {"..", ".", "a/../b", "x\\y", "\n", "caf\xC3\xA9.t"}) {
        o.table = table;
        EXPECT_NO_THROW(convoy::validate_object_key(object_key(o))) << table;
        // Exactly four components: the table name never adds one.
        std::string k = object_key(o);
        EXPECT_EQ(std::count(k.begin(), k.end(), '/'), 3) << k;
    }
}

TEST(EncodeKeyComponent, PercentEncoding) {
    EXPECT_EQ(encode_key_component("convoy.events"), "convoy.events");
    EXPECT_EQ(encode_key_component("AZaz09._-"), "AZaz09._-");
    EXPECT_EQ(encode_key_component(""), "");
    EXPECT_EQ(encode_key_component("a b"), "a%20b");
    EXPECT_EQ(encode_key_component("a/b"), "a%2Fb");
    EXPECT_EQ(encode_key_component("100%"), "100%25");
    EXPECT_EQ(encode_key_component("\"Q\""), "%22Q%22");
    EXPECT_EQ(encode_key_component("a\\b:c*d?e"), "a%5Cb%3Ac%2Ad%3Fe");
    EXPECT_EQ(encode_key_component("caf\xC3\xA9"), "caf%C3%A9");
    EXPECT_EQ(encode_key_component(std::string("\0\x1f\x7f\xff", 4)), "%00%1F%7F%FF");
    EXPECT_EQ(encode_key_component("~+=&$"), "%7E%2B%3D%26%24");
    // A name of dots only would read as a relative path component.
    EXPECT_EQ(encode_key_component("."), "%2E");
    EXPECT_EQ(encode_key_component(".."), "%2E%2E");
    EXPECT_EQ(encode_key_component("..."), "%2E%2E%2E");
    EXPECT_EQ(encode_key_component("..a"), "..a");
    EXPECT_EQ(encode_key_component("a.b.c"), "a.b.c");
}

TEST(FormatTime, Epoch) {
    EXPECT_EQ(format_rfc3339_utc(0), "1970-01-01T00:00:00.000000Z");
    EXPECT_EQ(format_date_utc(0), "1970-01-01");
    EXPECT_EQ(format_rfc3339_utc(1), "1970-01-01T00:00:00.000001Z");
    EXPECT_EQ(format_rfc3339_utc(example_time), "2026-11-25T06:01:40.123456Z");
}

TEST(FormatTime, MidnightBoundaries) {
    EXPECT_EQ(format_rfc3339_utc(midnight_2026_11_25), "2026-11-25T00:00:00.000000Z");
    EXPECT_EQ(format_date_utc(midnight_2026_11_25), "2026-11-25");
    EXPECT_EQ(format_rfc3339_utc(midnight_2026_11_25 - 1), "2026-11-24T23:59:59.999999Z");
    EXPECT_EQ(format_date_utc(midnight_2026_11_25 - 1), "2026-11-24");
    EXPECT_EQ(format_date_utc(midnight_2026_11_25 + day - 1), "2026-11-25");
    EXPECT_EQ(format_date_utc(midnight_2026_11_25 + day), "2026-11-26");

    BatchOrigin o{"s.t", midnight_2026_11_25 - 1, 0x10, 0};
    EXPECT_EQ(object_key(o), "backup/2026-11-24/s.t/2026-11-24T23:59:59.999999Z_0000000000000010.jsonl.gz");
    o.commit_unix_micros = midnight_2026_11_25;
    EXPECT_EQ(object_key(o), "backup/2026-11-25/s.t/2026-11-25T00:00:00.000000Z_0000000000000010.jsonl.gz");
}

TEST(FormatTime, CalendarEdges) {
    EXPECT_EQ(format_rfc3339_utc(951868799999999), "2000-02-29T23:59:59.999999Z"); // leap century
    EXPECT_EQ(format_rfc3339_utc(951868799999999 + 1), "2000-03-01T00:00:00.000000Z");
    EXPECT_EQ(format_rfc3339_utc(4107542400000000), "2100-03-01T00:00:00.000000Z"); // no Feb 29
    EXPECT_EQ(format_rfc3339_utc(4107542400000000 - 1), "2100-02-28T23:59:59.999999Z");
    EXPECT_EQ(format_rfc3339_utc(1704067199999999), "2023-12-31T23:59:59.999999Z");
    EXPECT_EQ(format_rfc3339_utc(1704067200000000), "2024-01-01T00:00:00.000000Z");
}

TEST(FormatTime, BeforeNineteenSeventy) {
    EXPECT_EQ(format_rfc3339_utc(-1), "1969-12-31T23:59:59.999999Z");
    EXPECT_EQ(format_date_utc(-1), "1969-12-31");
    EXPECT_EQ(format_rfc3339_utc(-sec), "1969-12-31T23:59:59.000000Z");
    EXPECT_EQ(format_rfc3339_utc(-sec - 1), "1969-12-31T23:59:58.999999Z");
    EXPECT_EQ(format_rfc3339_utc(-sec + 1), "1969-12-31T23:59:59.000001Z");
    EXPECT_EQ(format_rfc3339_utc(-day), "1969-12-31T00:00:00.000000Z");
    EXPECT_EQ(format_rfc3339_utc(-day - 1), "1969-12-30T23:59:59.999999Z");
    EXPECT_EQ(format_rfc3339_utc(-2208988800000000), "1900-01-01T00:00:00.000000Z");
    EXPECT_EQ(format_rfc3339_utc(-11670955200000000), "1600-02-29T12:00:00.000000Z");
    EXPECT_EQ(format_rfc3339_utc(-62135596800000000), "0001-01-01T00:00:00.000000Z");
    EXPECT_EQ(format_rfc3339_utc(-62167219200000000), "0000-01-01T00:00:00.000000Z");
    EXPECT_EQ(format_rfc3339_utc(-62167219200000001), "-0001-12-31T23:59:59.999999Z");
    BatchOrigin o{"s.t", -1, 1, 0};
    EXPECT_EQ(object_key(o), "backup/1969-12-31/s.t/1969-12-31T23:59:59.999999Z_0000000000000001.jsonl.gz");
}

TEST(FormatTime, ExtremesDoNotOverflow) {
    EXPECT_EQ(format_rfc3339_utc(std::numeric_limits<int64_t>::max()),
              "294247-01-10T04:00:54.775807Z");
    EXPECT_EQ(format_rfc3339_utc(std::numeric_limits<int64_t>::min()),
              "-290308-12-21T19:59:05.224192Z");
}

// Agrees with the C library over a wide range, before and after 1970.
TEST(FormatTime, MatchesGmtime) {
    std::mt19937_64 rng(7);
    for (int i = 0; i < 20000; i++) {
        // Years roughly 1000..2900.
        int64_t micros = static_cast<int64_t>(rng() % (60000000000000000ull)) - 30000000000000000;
        int64_t secs = micros >= 0 ? micros / sec : -((-micros + sec - 1) / sec);
        int64_t frac = micros - secs * sec;
        time_t tt = static_cast<time_t>(secs);
        struct tm tm;
        ASSERT_NE(gmtime_r(&tt, &tm), nullptr);
        char expected[64];
        std::snprintf(expected, sizeof(expected), "%04d-%02d-%02dT%02d:%02d:%02d.%06" PRId64 "Z",
                      tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                      tm.tm_sec, frac);
        ASSERT_EQ(format_rfc3339_utc(micros), expected) << micros;
        ASSERT_EQ(format_date_utc(micros), std::string(expected, 10)) << micros;
    }
}

// The proleptic Gregorian calendar repeats every 400 years (146097 days).
TEST(FormatTime, FourHundredYearCycle) {
    const int64_t cycle = 146097 * day;
    for (int64_t t : {int64_t(0), int64_t(-1), example_time, int64_t(-62167219200000001),
                      int64_t(951868799999999)}) {
        std::string base = format_rfc3339_utc(t);
        for (int k = -600; k <= 600; k += 37) {
            if ((k < 0 && t < std::numeric_limits<int64_t>::min() - k * cycle) ||
                (k > 0 && t > std::numeric_limits<int64_t>::max() - k * cycle))
                continue;
            std::string shifted = format_rfc3339_utc(t + k * cycle);
            size_t dash = shifted.find('-', 1);
            long long year = std::stoll(shifted.substr(0, dash));
            long long base_year = std::stoll(base.substr(0, base.find('-', 1)));
            EXPECT_EQ(year, base_year + 400LL * k) << shifted;
            EXPECT_EQ(shifted.substr(dash), base.substr(base.find('-', 1))) << shifted;
        }
    }
}

} // namespace

TEST(ExportObjectKey, NamesTheWindow) {
    // 2026-11-25T06:00:00Z and one hour later.
    const int64_t start = 1795586400LL * 1000000;
    EXPECT_EQ(convoy::export_object_key("convoy.events", start, start + 3600LL * 1000000),
              "backup/2026-11-25/convoy.events/2026-11-25T06:00:00.000000Z_export_"
              "2026-11-25T07:00:00.000000Z.jsonl.gz");
    EXPECT_EQ(convoy::export_object_key("\"A b\".t", start, start + 1),
              "backup/2026-11-25/%22A%20b%22.t/2026-11-25T06:00:00.000000Z_export_"
              "2026-11-25T06:00:00.000001Z.jsonl.gz");
}
