#include "core/json/json_text.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace {

// The appender the templates expect, over a std::string.
struct StringOut {
    std::string text;
    size_t calls = 0;
    void append(const char *data, size_t len) {
        text.append(data, len);
        calls++;
    }
};

std::string json_string(std::string_view s) {
    StringOut out;
    convoy::json::append_string(out, s);
    return out.text;
}

std::string bytea(const std::vector<uint8_t> &bytes) {
    StringOut out;
    convoy::json::append_bytea_hex(out, bytes.data(), bytes.size());
    return out.text;
}

TEST(JsonString, PlainTextIsQuotedOnly) {
    EXPECT_EQ(json_string(""), "\"\"");
    EXPECT_EQ(json_string("hello world"), "\"hello world\"");
    EXPECT_EQ(json_string("/slash/is/not/escaped"), "\"/slash/is/not/escaped\"");
}

TEST(JsonString, QuotesAndBackslashes) {
    EXPECT_EQ(json_string("\""), R"("\"")");
    EXPECT_EQ(json_string("\\"), R"("\\")");
    EXPECT_EQ(json_string(R"(say "hi" \ bye)"), R"("say \"hi\" \\ bye")");
    EXPECT_EQ(json_string(R"(\")"), R"("\\\"")");
    EXPECT_EQ(json_string(R"(C:\path\n)"), R"("C:\\path\\n")");
}

TEST(JsonString, EveryControlByte) {
    for (int c = 0; c < 0x20; c++) {
        std::string expected;
        switch (c) {
        case '\b': expected = "\\b"; break;
        case '\f': expected = "\\f"; break;
        case '\n': expected = "\\n"; break;
        case '\r': expected = "\\r"; break;
        case '\t': expected = "\\t"; break;
        default: {
            static const char hex[] = "0123456789abcdef";
            expected = std::string("\\u00") + hex[c >> 4] + hex[c & 0xF];
        }
        }
        std::string in(1, static_cast<char>(c));
        EXPECT_EQ(json_string(in), "\"" + expected + "\"") << "byte " << c;
        // Also in the middle of other text, so runs around it are copied right.
        EXPECT_EQ(json_string("a" + in + "b"), "\"a" + expected + "b\"") << "byte " << c;
    }
}

TEST(JsonString, SpotChecks) {
    EXPECT_EQ(json_string(std::string("\0", 1)), R"("\u0000")");
    EXPECT_EQ(json_string("\x1f"), R"("\u001f")");
    EXPECT_EQ(json_string("\x0b"), R"("\u000b")");
    EXPECT_EQ(json_string("\x1b[0m"), R"("\u001b[0m")");
    EXPECT_EQ(json_string("line1\nline2\r\n\ttab"), R"("line1\nline2\r\n\ttab")");
    // DEL (0x7f) and space are not escaped.
    EXPECT_EQ(json_string("\x7f "), "\"\x7f \"");
}

TEST(JsonString, Utf8PassesThrough) {
    EXPECT_EQ(json_string("caf\xC3\xA9"), "\"caf\xC3\xA9\"");
    EXPECT_EQ(json_string("\xE2\x82\xAC \xF0\x9F\x98\x80"), "\"\xE2\x82\xAC \xF0\x9F\x98\x80\"");
    EXPECT_EQ(json_string("\xE6\x97\xA5\xE6\x9C\xAC\n"), "\"\xE6\x97\xA5\xE6\x9C\xAC\\n\"");
}

TEST(JsonString, LongRunsAreCopiedInFewPieces) {
    std::string s(10000, 'x');
    StringOut out;
    convoy::json::append_string(out, s);
    EXPECT_EQ(out.text, "\"" + s + "\"");
    EXPECT_LE(out.calls, 3u); // quote, the run, quote
}

TEST(JsonString, BodyInPiecesEqualsTheWholeString) {
    // The row encoder escapes a converted string piece by piece between its own
    // quotes: any split gives the same text as append_string of the whole.
    const std::string s = "a\"b\\c\n\x01 caf\xC3\xA9 \xE2\x98\x83 end";
    for (size_t split = 0; split <= s.size(); split++) {
        StringOut out;
        out.append("\"", 1);
        convoy::json::append_string_body(out, std::string_view(s).substr(0, split));
        convoy::json::append_string_body(out, std::string_view(s).substr(split));
        out.append("\"", 1);
        EXPECT_EQ(out.text, json_string(s)) << "split at " << split;
    }
}

TEST(JsonBytea, Empty) { EXPECT_EQ(bytea({}), R"("\\x")"); }

TEST(JsonBytea, SmallValues) {
    EXPECT_EQ(bytea({0x00}), R"("\\x00")");
    EXPECT_EQ(bytea({0xde, 0xad, 0xbe, 0xef}), R"("\\xdeadbeef")");
    EXPECT_EQ(bytea({0x0a, 0x1b, 0xff, 0x80, 0x7f}), R"("\\x0a1bff807f")");
}

TEST(JsonBytea, LongerThanTheInternalBlock) {
    for (size_t n : {127u, 128u, 129u, 256u, 300u, 1000u}) {
        std::vector<uint8_t> bytes(n);
        std::string expected = "\"\\\\x";
        static const char hex[] = "0123456789abcdef";
        for (size_t i = 0; i < n; i++) {
            bytes[i] = static_cast<uint8_t>((i * 37 + 11) & 0xFF);
            expected += hex[bytes[i] >> 4];
            expected += hex[bytes[i] & 0xF];
        }
        expected += '"';
        EXPECT_EQ(bytea(bytes), expected) << n << " bytes";
    }
}

TEST(JsonNumber, Accepts) {
    for (const char *s : {"0", "-0", "1", "-1", "10", "123456789012345678901234567890", "0.5",
                          "-0.5", "1.25", "1e5", "1E5", "1e+100", "1e-100", "-1.5e-3", "0e0",
                          "0.0", "2.000", "1E+0"})
        EXPECT_TRUE(convoy::json::is_json_number(s)) << s;
}

TEST(JsonNumber, Rejects) {
    for (const char *s :
         {"", "-", "+1", "NaN", "nan", "Infinity", "-Infinity", "inf", ".5", "-.5", "01", "-01",
          "00", "1.", "1.e5", "1e", "1e+", "1e-", "e5", "0x10", "1 ", " 1", "1,5", "1.2.3",
          "1e5.5", "--1", "1_000", "١"})
        EXPECT_FALSE(convoy::json::is_json_number(s)) << "\"" << s << "\"";
}

} // namespace
