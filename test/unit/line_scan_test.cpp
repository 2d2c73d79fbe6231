// scan_line(): a backup line is valid JSON as PostgreSQL's json type reads it,
// and the members verify and restore need are found at the top level only.
#include "core/json/line_scan.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace {

using convoy::json::LineScan;
using convoy::json::MemberValue;

struct Scanned {
    LineScan scan;
    std::vector<std::string> values; // "<absent>" when not found
};

Scanned scan(const std::string &line, std::vector<std::string_view> names = {}) {
    static std::vector<uint8_t> stack(convoy::json::max_scan_depth);
    std::vector<MemberValue> values(names.size() + 1);
    Scanned out;
    out.scan = convoy::json::scan_line(line, names.data(), names.size(), values.data(), stack.data());
    for (size_t i = 0; i < names.size(); i++)
        out.values.push_back(values[i].present ? line.substr(values[i].begin, values[i].length)
                                               : "<absent>");
    return out;
}

bool valid(const std::string &line) { return scan(line).scan.valid; }

TEST(LineScan, FindsTopLevelMembersAsWritten) {
    Scanned s = scan(R"({"id":12,"doc":{"id":99,"created_at":"x"},"n":null,)"
                     R"("created_at":"2026-01-01T00:00:00+00:00","arr":[1,{"id":3}],"s":"a\"b"})",
                     {"id", "created_at", "arr", "s", "n", "missing", "doc"});
    ASSERT_TRUE(s.scan.valid) << s.scan.error;
    EXPECT_EQ(s.values[0], "12");
    EXPECT_EQ(s.values[1], "\"2026-01-01T00:00:00+00:00\"");
    EXPECT_EQ(s.values[2], "[1,{\"id\":3}]");
    EXPECT_EQ(s.values[3], "\"a\\\"b\"");
    EXPECT_EQ(s.values[4], "null");
    EXPECT_EQ(s.values[5], "<absent>");
    EXPECT_EQ(s.values[6], "{\"id\":99,\"created_at\":\"x\"}");
}

TEST(LineScan, WhitespaceAroundTokensAndTheLastOfRepeatedKeys) {
    Scanned s = scan(" { \"a\" : 1 , \"b\" :\t[ ] , \"a\" : \"two\" } ", {"a", "b"});
    ASSERT_TRUE(s.scan.valid) << s.scan.error;
    EXPECT_EQ(s.values[0], "\"two\"");
    EXPECT_EQ(s.values[1], "[ ]");
}

TEST(LineScan, KeysMatchAsWrittenEscapesIncluded) {
    Scanned s = scan(R"({"we\"ird":1,"é":2})", {"we\\\"ird", "é"});
    ASSERT_TRUE(s.scan.valid);
    EXPECT_EQ(s.values[0], "1");
    EXPECT_EQ(s.values[1], "2");
}

TEST(LineScan, AcceptsWhatJsonAccepts) {
    for (const char *line : {"{}", R"({"a":[]})", R"({"a":{}})", R"({"a":-0.5e+10})", R"({"a":0})",
                             R"({"a":1E5})", R"({"a":true,"b":false,"c":null})",
                             R"({"a":"\/\b\f\n\r\t\u00e9\uD800"})", "{\"a\":\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"}",
                             R"({"a":[[[[["deep"]]]]]})"})
        EXPECT_TRUE(valid(line)) << line;
}

TEST(LineScan, RefusesWhatJsonRefuses) {
    for (const char *line :
         {"", "[]", "\"a\"", "1", "{", R"({"a":1)", R"({"a" 1})", R"({"a":})", R"({a:1})",
          R"({"a":1,})", R"({"a":[1,]})", R"({"a":01})", R"({"a":1.})", R"({"a":.5})", R"({"a":1e})",
          R"({"a":-})", R"({"a":tru})", R"({"a":truex})", R"({"a":nul})", R"({"a":"\x"})",
          R"({"a":"\u12g4"})", R"({"a":"\u12"})", "{\"a\":\"tab\there\"}", R"({"a":1} x)",
          R"({"a":1}{})", R"({"a":[1}})", R"({"a":{"b":1]})", "{\"a\":\"unterminated}",
          "{\"a\":\"\xc3\"}", "{\"a\":\"\xc0\xaf\"}", "{\"a\":\"\xed\xa0\x80\"}",
          "{\"a\":\"\xf4\x90\x80\x80\"}", "{\"a\":\"\xff\"}", "{\"a\":1}\xc3\xa9"})
        EXPECT_FALSE(valid(line)) << line;
}

TEST(LineScan, SaysWhyAndWhere) {
    Scanned s = scan(R"({"a":[1,2,}])");
    EXPECT_FALSE(s.scan.valid);
    EXPECT_STREQ(s.scan.error, "invalid token");
    EXPECT_EQ(s.scan.error_offset, 10u);
}

TEST(LineScan, NoticesTheNulEscapeOnly) {
    EXPECT_TRUE(scan(R"({"a":"x\u0000y"})").scan.nul_escape);
    EXPECT_TRUE(scan(R"({"a":{"b":["\\\u0000"]}})").scan.nul_escape);
    EXPECT_FALSE(scan(R"({"a":"x\\u0000y"})").scan.nul_escape);
    EXPECT_FALSE(scan(R"({"a":"\u00001"})").scan.nul_escape == false);
    EXPECT_FALSE(scan(R"({"a":"u0000"})").scan.nul_escape);
}

TEST(LineScan, RefusesNestingBeyondTheLimit) {
    size_t depth = convoy::json::max_scan_depth;
    std::string ok = "{\"a\":" + std::string(depth - 1, '[') + std::string(depth - 1, ']') + "}";
    EXPECT_TRUE(valid(ok));
    std::string deep = "{\"a\":" + std::string(depth, '[') + std::string(depth, ']') + "}";
    Scanned s = scan(deep);
    EXPECT_FALSE(s.scan.valid);
    EXPECT_STREQ(s.scan.error, "nested too deeply");
}

} // namespace

namespace {

TEST(LineScan, NoticesEscapedTopLevelKeys) {
    EXPECT_TRUE(scan(R"({"\u0069d":1})").scan.escaped_key);
    EXPECT_FALSE(scan(R"({"id":{"\u0069d":1}})").scan.escaped_key);
}

TEST(LineScan, FindsMembersInAnyOrder) {
    Scanned s = scan(R"({"c":3,"a":1,"b":2,"d":4})", {"a", "b", "c", "d"});
    EXPECT_EQ(s.values, (std::vector<std::string>{"1", "2", "3", "4"}));
}

} // namespace
