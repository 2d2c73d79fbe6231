// unescape_string(): JSON strings as PostgreSQL's json functions read them.
#include "core/json/json_unescape.hpp"

#include <gtest/gtest.h>

#include <string>

namespace {

bool unescaped(const std::string &body, std::string &text) {
    std::string out(body.size(), '\0');
    size_t len = 0;
    if (!convoy::json::unescape_string(body, out.data(), len))
        return false;
    text = out.substr(0, len);
    return true;
}

std::string text_of(const std::string &body) {
    std::string text;
    EXPECT_TRUE(unescaped(body, text)) << body;
    return text;
}

TEST(JsonUnescape, Escapes) {
    EXPECT_EQ(text_of(""), "");
    EXPECT_EQ(text_of("plain é"), "plain é");
    EXPECT_EQ(text_of(R"(\"\\\/\b\f\n\r\t)"), "\"\\/\b\f\n\r\t");
    EXPECT_EQ(text_of(R"(a\u0041\u00e9\u20AC)"), "aA\xc3\xa9\xe2\x82\xac");
    EXPECT_EQ(text_of(R"(\ud83d\ude00!)"), "\xf0\x9f\x98\x80!");
    EXPECT_EQ(text_of(R"(\u0001)"), "\x01");
}

TEST(JsonUnescape, LeavesToPostgresWhatItRefuses) {
    std::string text;
    for (const char *body : {R"(\u0000)", R"(\ud83d)", R"(\ud83dx)", R"(\ude00)", R"(\ud83d\u0041)"})
        EXPECT_FALSE(unescaped(body, text)) << body;
}

} // namespace
