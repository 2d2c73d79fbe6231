// parse_timestamp_utc(): the timestamps of object names and of to_jsonb's
// timestamptz text, back to microseconds; anything else is left to PostgreSQL.
#include "core/json/timestamp_scan.hpp"

#include "core/batch/object_key.hpp"

#include <gtest/gtest.h>

namespace {

using convoy::json::parse_timestamp_utc;

int64_t parsed(const char *text) {
    int64_t micros = 0;
    EXPECT_TRUE(parse_timestamp_utc(text, micros)) << text;
    return micros;
}

TEST(TimestampScan, ReadsUtcAndOffsets) {
    EXPECT_EQ(parsed("1970-01-01T00:00:00Z"), 0);
    EXPECT_EQ(parsed("1970-01-01T00:00:00+00:00"), 0);
    EXPECT_EQ(parsed("2026-11-25T06:01:40.123456Z"), 1795586500123456);
    EXPECT_EQ(parsed("2026-11-25T06:01:40.5+00:00"), 1795586500500000);
    EXPECT_EQ(parsed("2026-11-25T07:01:40.5+01:00"), 1795586500500000);
    EXPECT_EQ(parsed("2026-11-25T01:31:40.5-04:30"), 1795586500500000);
    EXPECT_EQ(parsed("1969-12-31T23:59:59.999999Z"), -1);
    EXPECT_EQ(parsed("2000-02-29T00:00:00Z"), 951782400000000);
    EXPECT_EQ(parsed("0001-01-01T00:00:00Z"), -62135596800000000);
}

TEST(TimestampScan, AgreesWithObjectNames) {
    for (int64_t micros : {int64_t(0), int64_t(1795586500123456), int64_t(-86400000001),
                           int64_t(253402300799999999)}) {
        int64_t back = 0;
        ASSERT_TRUE(parse_timestamp_utc(convoy::format_rfc3339_utc(micros), back));
        EXPECT_EQ(back, micros);
    }
}

TEST(TimestampScan, LeavesEverythingElseToPostgres) {
    int64_t micros;
    for (const char *text :
         {"", "2026-11-25", "2026-11-25 06:01:40+00", "2026-11-25T06:01:40", "2026-13-01T00:00:00Z",
          "2026-02-29T00:00:00Z", "2026-01-01T24:00:00Z", "2026-01-01T00:00:60Z",
          "2026-01-01T00:00:00.Z", "2026-01-01T00:00:00.1234567Z", "2026-01-01T00:00:00+0000",
          "2026-01-01T00:00:00+00:00:00", "infinity", "10000-01-01T00:00:00Z", "0000-01-01T00:00:00Z",
          "2026-01-01T00:00:00Zx"})
        EXPECT_FALSE(parse_timestamp_utc(text, micros)) << text;
}

} // namespace
