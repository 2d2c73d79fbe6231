#include "core/catalog/manifest.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>

#include "core/catalog/manifest_values.hpp"
#include "core/error.hpp"
#include "test_support.hpp"

namespace {

using convoy::ErrorKind;
using convoy::Manifest;
using convoy::manifest_from_json;
using convoy::manifest_to_json;
using convoy::ObjectSource;

const std::string sha = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

Manifest cdc_manifest() {
    Manifest m;
    m.key = "backup/2026-11-25/convoy.events/2026-11-25T06:01:40.123456Z_00000016B374D848.jsonl.gz";
    m.table = "convoy.events";
    m.source = ObjectSource::cdc;
    m.rows = 3;
    m.raw_bytes = 120;
    m.stored_bytes = 80;
    m.sha256 = sha;
    m.first_commit_lsn = 0x16B374D848;
    m.last_commit_lsn = 0x16B3750000;
    m.time_column = "created_at";
    m.time_min_micros = 1795586500123456;
    m.time_max_micros = 1795586501000000;
    return m;
}

Manifest export_manifest() {
    Manifest m;
    m.key = "backup/2026-11-25/convoy.events/2026-11-25T06:00:00.000000Z_export_2026-11-25T07:00:00.000000Z.jsonl.gz";
    m.table = "convoy.events";
    m.source = ObjectSource::exported;
    m.rows = 0;
    m.raw_bytes = 0;
    m.stored_bytes = 20;
    m.sha256 = sha;
    m.window_start_micros = 1795586400000000;
    m.window_end_micros = 1795590000000000;
    m.time_column = "Created At";
    return m;
}

void expect_same(const Manifest &a, const Manifest &b) {
    EXPECT_EQ(a.format, b.format);
    EXPECT_EQ(a.key, b.key);
    EXPECT_EQ(a.table, b.table);
    EXPECT_EQ(a.source, b.source);
    EXPECT_EQ(a.rows, b.rows);
    EXPECT_EQ(a.raw_bytes, b.raw_bytes);
    EXPECT_EQ(a.stored_bytes, b.stored_bytes);
    EXPECT_EQ(a.sha256, b.sha256);
    EXPECT_EQ(a.first_commit_lsn, b.first_commit_lsn);
    EXPECT_EQ(a.last_commit_lsn, b.last_commit_lsn);
    EXPECT_EQ(a.window_start_micros, b.window_start_micros);
    EXPECT_EQ(a.window_end_micros, b.window_end_micros);
    EXPECT_EQ(a.time_column, b.time_column);
    EXPECT_EQ(a.time_min_micros, b.time_min_micros);
    EXPECT_EQ(a.time_max_micros, b.time_max_micros);
}

TEST(Manifest, CdcJsonIsOneLineInAFixedOrder) {
    EXPECT_EQ(manifest_to_json(cdc_manifest()),
              "{\"format\":1,\"key\":\"backup/2026-11-25/convoy.events/"
              "2026-11-25T06:01:40.123456Z_00000016B374D848.jsonl.gz\",\"table\":\"convoy.events\","
              "\"source\":\"cdc\",\"rows\":3,\"raw_bytes\":120,\"stored_bytes\":80,\"sha256\":\"" +
                  sha +
                  "\",\"first_commit_lsn\":\"16/B374D848\",\"last_commit_lsn\":\"16/B3750000\","
                  "\"time_column\":\"created_at\",\"time_min\":\"2026-11-25T06:01:40.123456Z\","
                  "\"time_max\":\"2026-11-25T06:01:41.000000Z\"}");
}

TEST(Manifest, ExportJsonHasTheWindowAndNullTimesWithoutRows) {
    EXPECT_EQ(manifest_to_json(export_manifest()),
              "{\"format\":1,\"key\":\"backup/2026-11-25/convoy.events/"
              "2026-11-25T06:00:00.000000Z_export_2026-11-25T07:00:00.000000Z.jsonl.gz\","
              "\"table\":\"convoy.events\",\"source\":\"export\",\"rows\":0,\"raw_bytes\":0,"
              "\"stored_bytes\":20,\"sha256\":\"" +
                  sha +
                  "\",\"window_start\":\"2026-11-25T06:00:00.000000Z\","
                  "\"window_end\":\"2026-11-25T07:00:00.000000Z\",\"time_column\":\"Created At\","
                  "\"time_min\":null,\"time_max\":null}");
}

TEST(Manifest, RoundTrips) {
    for (const Manifest &m : {cdc_manifest(), export_manifest()}) {
        std::string json = manifest_to_json(m);
        EXPECT_EQ(json.find('\n'), std::string::npos);
        expect_same(manifest_from_json(json), m);
        // As stored: one line with its newline.
        expect_same(manifest_from_json(json + "\n"), m);
    }
}

TEST(Manifest, RoundTripsEdgeValues) {
    Manifest m = cdc_manifest();
    m.table = "\"Mixed Case\".\"Événements \"\"1\"\"\"";
    m.time_column = "créé";
    m.rows = uint64_t(INT64_MAX);
    m.raw_bytes = uint64_t(INT64_MAX);
    m.first_commit_lsn = 0;
    m.last_commit_lsn = UINT64_MAX;
    m.time_min_micros = std::numeric_limits<int64_t>::min(); // -infinity
    m.time_max_micros = std::numeric_limits<int64_t>::max(); // infinity
    std::string json = manifest_to_json(m);
    EXPECT_NE(json.find("\"time_min\":\"-infinity\",\"time_max\":\"infinity\""), std::string::npos);
    EXPECT_NE(json.find("\"first_commit_lsn\":\"0/0\",\"last_commit_lsn\":\"FFFFFFFF/FFFFFFFF\""),
              std::string::npos);
    expect_same(manifest_from_json(json), m);

    // Years outside 0000..9999 (PostgreSQL's range is wider than RFC 3339's).
    m.time_min_micros = -210866803200000000; // 4713 BC, PostgreSQL's first day
    m.time_max_micros = 9223372036854775806;  // the last finite microsecond
    expect_same(manifest_from_json(manifest_to_json(m)), m);
}

TEST(Manifest, Keys) {
    EXPECT_EQ(convoy::manifest_key("backup/d/t/x_1.jsonl.gz"), "backup/d/t/x_1.manifest.json");
    EXPECT_TRUE(convoy::is_manifest_key("backup/d/t/x_1.manifest.json"));
    EXPECT_FALSE(convoy::is_manifest_key("backup/d/t/x_1.jsonl.gz"));
    EXPECT_FALSE(convoy::is_manifest_key("backup/d/t/.manifest.json"));
    EXPECT_FALSE(convoy::is_manifest_key("manifest.json"));
    for (const char *bad : {"backup/d/t/x.json", "backup/d/t/.jsonl.gz", ".jsonl.gz", ""})
        EXPECT_EQ(convoy::test::catch_error([&] { convoy::manifest_key(bad); }).kind(),
                  ErrorKind::invalid_key)
            << bad;
}

// Each bad input is refused as corrupt data, with a message naming the problem.
void expect_corrupt(const std::string &text, const std::string &message_part) {
    convoy::Error e = convoy::test::catch_error([&] { manifest_from_json(text); });
    EXPECT_EQ(e.kind(), ErrorKind::corrupt_data) << text;
    EXPECT_NE(std::string(e.what()).find(message_part), std::string::npos)
        << "message: " << e.what() << "\ninput: " << text;
}

// The cdc manifest's JSON with one field's value replaced (or the field
// removed when value is empty).
std::string with(const std::string &field, const std::string &value,
                 const Manifest &m = cdc_manifest()) {
    std::string json = manifest_to_json(m);
    size_t at = json.find("\"" + field + "\":");
    EXPECT_NE(at, std::string::npos) << field;
    size_t start = at + field.size() + 3;
    size_t end = start;
    if (json[start] == '"')
        end = json.find('"', start + 1) + 1;
    else
        end = json.find_first_of(",}", start);
    if (value.empty()) {
        size_t from = json[at - 1] == ',' ? at - 1 : at;
        size_t to = json[end] == ',' && from == at ? end + 1 : end;
        return json.substr(0, from) + json.substr(to);
    }
    return json.substr(0, start) + value + json.substr(end);
}

TEST(Manifest, RefusesWhatIsNotAManifest) {
    expect_corrupt("", "not JSON");
    expect_corrupt("{\"format\":1", "not JSON");
    expect_corrupt(manifest_to_json(cdc_manifest()) + "x", "not JSON");
    expect_corrupt("[1]", "not a JSON object");
    expect_corrupt("{\"format\":1,\"format\":1}", "not JSON"); // duplicate key
    expect_corrupt(with("format", "2"), "format 2 is not supported");
    expect_corrupt(with("format", "\"1\""), "\"format\" is not an integer");
    expect_corrupt(with("format", ""), "\"format\" is missing");
    expect_corrupt(with("source", "\"wal\""), "neither \"cdc\" nor \"export\"");
    expect_corrupt(manifest_to_json(cdc_manifest()).insert(1, "\"extra\":true,"),
                   "\"extra\" does not belong");
    // A cdc manifest has no window, an export manifest no LSNs.
    expect_corrupt(with("source", "\"export\""), "\"first_commit_lsn\" does not belong");
    expect_corrupt(with("source", "\"cdc\"", export_manifest()), "\"window_start\" does not belong");
}

TEST(Manifest, RefusesBadFields) {
    expect_corrupt(with("key", ""), "\"key\" is missing");
    expect_corrupt(with("key", "\"../x.jsonl.gz\""), "\"key\" is not a valid object key");
    expect_corrupt(with("key", "\"backup/x.manifest.json\""), "does not name a backup object");
    expect_corrupt(with("key", "42"), "\"key\" is not a string");
    expect_corrupt(with("table", "\"\""), "\"table\" is empty");
    expect_corrupt(with("rows", "-1"), "\"rows\" is not a non-negative integer");
    expect_corrupt(with("rows", "1.5"), "\"rows\" is not a non-negative integer");
    expect_corrupt(with("rows", "18446744073709551615"), "not JSON"); // beyond int64
    expect_corrupt(with("stored_bytes", "null"), "\"stored_bytes\" is not a non-negative integer");
    expect_corrupt(with("sha256", "\"" + std::string(64, 'A') + "\""), "\"sha256\" is not 64");
    expect_corrupt(with("sha256", "\"abc\""), "\"sha256\" is not 64");
    expect_corrupt(with("first_commit_lsn", "\"16/b374d848\""), "\"first_commit_lsn\" is not an LSN");
    expect_corrupt(with("first_commit_lsn", "\"016/B374D848\""), "\"first_commit_lsn\" is not an LSN");
    expect_corrupt(with("last_commit_lsn", "\"100000000/0\""), "\"last_commit_lsn\" is not an LSN");
    expect_corrupt(with("last_commit_lsn", "\"1/0\""), "first_commit_lsn is after last_commit_lsn");
    expect_corrupt(with("time_column", "\"\""), "\"time_column\" is empty");
    expect_corrupt(with("time_min", "null"), "time_min and time_max are not both null");
    expect_corrupt(with("time_min", ""), "\"time_min\" is missing");
    expect_corrupt(with("time_min", "\"2026-11-25T07:00:00.000000Z\""), "time_min is after time_max");
    expect_corrupt(with("time_min", "\"2026-11-25 06:00:00+00\""), "\"time_min\" is not a UTC time");
    expect_corrupt(with("time_min", "\"2026-02-30T06:00:00.000000Z\""), "\"time_min\" is not a UTC time");
    expect_corrupt(with("time_min", "\"2026-11-25T06:00:00.000Z\""), "\"time_min\" is not a UTC time");
    expect_corrupt(with("time_min", "1795586500123456"), "\"time_min\" is not a UTC time");
    expect_corrupt(with("rows", "0"), "an object of no rows has a time_min");
    expect_corrupt(with("raw_bytes", "0"), "rows and raw_bytes disagree");
    expect_corrupt(with("window_end", "\"2026-11-25T06:00:00.000000Z\"", export_manifest()),
                   "window_start is not before window_end");
}

TEST(ManifestValues, TimesHaveOneSpelling) {
    using convoy::format_manifest_time;
    using convoy::parse_manifest_time;
    EXPECT_EQ(format_manifest_time(0), "1970-01-01T00:00:00.000000Z");
    EXPECT_EQ(format_manifest_time(-1), "1969-12-31T23:59:59.999999Z");
    for (int64_t t : {int64_t(0), int64_t(-1), int64_t(951782400000000) /* 2000-02-29 */,
                      int64_t(-62167219200000000) /* 0000-01-01 */,
                      int64_t(-62167219200000001), int64_t(253402300800000000) /* 10000-01-01 */,
                      std::numeric_limits<int64_t>::min() + 1,
                      std::numeric_limits<int64_t>::max() - 1}) {
        std::string text = format_manifest_time(t);
        EXPECT_EQ(parse_manifest_time(text), t) << text;
    }
    for (const char *bad : {"", "infinity ", "+infinity", "1970-01-01T00:00:00Z",
                            "1970-1-01T00:00:00.000000Z", "1970-01-01T24:00:00.000000Z",
                            "01970-01-01T00:00:00.000000Z", "-0000-01-01T00:00:00.000000Z",
                            "1970-01-01t00:00:00.000000Z", "1970-01-01T00:00:60.000000Z",
                            "1000000-01-01T00:00:00.000000Z", "294248-01-01T00:00:00.000000Z"})
        EXPECT_FALSE(parse_manifest_time(bad).has_value()) << bad;
}

TEST(ManifestValues, LsnsAsPostgresPrintsThem) {
    EXPECT_EQ(convoy::format_lsn(0x16B374D848), "16/B374D848");
    EXPECT_EQ(convoy::parse_lsn("16/B374D848"), uint64_t(0x16B374D848));
    EXPECT_EQ(convoy::parse_lsn("0/0"), uint64_t(0));
    for (const char *bad : {"", "/", "0/", "/0", "0/00", "x/0", "0/0/0", "123456789/0", "a/0"})
        EXPECT_FALSE(convoy::parse_lsn(bad).has_value()) << bad;
}

} // namespace
