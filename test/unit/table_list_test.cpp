#include "core/config/table_list.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/error.hpp"

namespace {

using convoy::Error;
using convoy::ErrorKind;
using convoy::parse_table_list;
using convoy::QualifiedName;

std::vector<QualifiedName> parse(std::string_view text, size_t max_tables = 64) {
    return parse_table_list(text, max_tables);
}

// The Error thrown for text (failing the test if none is).
Error parse_error(std::string_view text, size_t max_tables = 64) {
    try {
        parse_table_list(text, max_tables);
    } catch (const Error &e) {
        return e;
    }
    ADD_FAILURE() << "no error for: " << text;
    return Error(ErrorKind::internal, "no error");
}

#define EXPECT_CONFIG_ERROR(text, fragment)                                                   \
    do {                                                                                      \
        Error e_ = parse_error(text);                                                         \
        EXPECT_EQ(e_.kind(), ErrorKind::invalid_config);                                      \
        EXPECT_NE(std::string(e_.what()).find(fragment), std::string::npos)                   \
            << "message: " << e_.what();                                                      \
    } while (0)

TEST(TableList, EmptyAndBlank) {
    EXPECT_TRUE(parse("").empty());
    EXPECT_TRUE(parse("   ").empty());
    EXPECT_TRUE(parse(" \t\n ").empty());
}

TEST(TableList, SingleUnquoted) {
    auto t = parse("public.events");
    ASSERT_EQ(t.size(), 1u);
    EXPECT_EQ(t[0].schema, "public");
    EXPECT_EQ(t[0].table, "events");
}

TEST(TableList, UnquotedIsFolded) {
    auto t = parse("Public.EvEnTs_2024$x");
    ASSERT_EQ(t.size(), 1u);
    EXPECT_EQ(t[0].schema, "public");
    EXPECT_EQ(t[0].table, "events_2024$x");
}

TEST(TableList, NonAsciiIsKeptAndNotFolded) {
    // As in PostgreSQL with a UTF-8 database: only ASCII letters fold.
    auto t = parse("public.CAF\xC3\x89");
    ASSERT_EQ(t.size(), 1u);
    EXPECT_EQ(t[0].table, "caf\xC3\x89");
}

TEST(TableList, QuotedKeepsCaseAndSpecialCharacters) {
    auto t = parse(R"("MySchema"."My ""Quoted"" Table, with.dots")");
    ASSERT_EQ(t.size(), 1u);
    EXPECT_EQ(t[0].schema, "MySchema");
    EXPECT_EQ(t[0].table, "My \"Quoted\" Table, with.dots");
}

TEST(TableList, MixedQuotedAndUnquoted) {
    auto t = parse(R"(s."T", "S".t)");
    ASSERT_EQ(t.size(), 2u);
    EXPECT_EQ(t[0], (QualifiedName{"s", "T"}));
    EXPECT_EQ(t[1], (QualifiedName{"S", "t"}));
}

TEST(TableList, SpacesAroundEverything) {
    auto t = parse("  a . b ,\tc.d\n,  \"e\" .  \"f g\"  ");
    ASSERT_EQ(t.size(), 3u);
    EXPECT_EQ(t[0], (QualifiedName{"a", "b"}));
    EXPECT_EQ(t[1], (QualifiedName{"c", "d"}));
    EXPECT_EQ(t[2], (QualifiedName{"e", "f g"}));
}

TEST(TableList, Display) {
    EXPECT_EQ((QualifiedName{"public", "events"}).display(), "public.events");
    EXPECT_EQ((QualifiedName{"MySchema", "t"}).display(), "\"MySchema\".t");
    EXPECT_EQ((QualifiedName{"s", "a \"b\""}).display(), "s.\"a \"\"b\"\"\"");
    EXPECT_EQ((QualifiedName{"s", "1abc"}).display(), "s.\"1abc\"");
    EXPECT_EQ((QualifiedName{"s", "a.b"}).display(), "s.\"a.b\"");
    // display() parses back to the same name.
    for (const QualifiedName &n : {QualifiedName{"MySchema", "My \"Quoted\" Table, x.y"},
                                   QualifiedName{"s", "t$1"}, QualifiedName{"_", "x"}}) {
        auto t = parse(n.display());
        ASSERT_EQ(t.size(), 1u) << n.display();
        EXPECT_EQ(t[0], n) << n.display();
    }
}

TEST(TableList, UnqualifiedNameIsRefused) {
    EXPECT_CONFIG_ERROR("events", "table name \"events\" is not schema-qualified");
    EXPECT_CONFIG_ERROR("public.a, b", "not schema-qualified");
    Error e = parse_error("events");
    EXPECT_NE(e.detail().find("public.events"), std::string::npos) << e.detail();
}

TEST(TableList, TimeColumnSuffix) {
    std::vector<QualifiedName> tables =
        parse("convoy.events, myschema.t:inserted_at, \"S\".\"T\" : \"At Time\"");
    ASSERT_EQ(tables.size(), 3u);
    EXPECT_EQ(tables[0].time_column, "");
    EXPECT_EQ(tables[1].table, "t");
    EXPECT_EQ(tables[1].time_column, "inserted_at");
    EXPECT_EQ(tables[2].time_column, "At Time");
    // The column does not make a table different: still a duplicate.
    EXPECT_CONFIG_ERROR("a.b:x, a.b:y", "listed more than once");
    EXPECT_CONFIG_ERROR("a.b:", "invalid table name");
}

TEST(TableList, TooManyDots) {
    EXPECT_CONFIG_ERROR("db.public.events", "too many dotted names): db.public.events");
    EXPECT_CONFIG_ERROR("a.b.", "too many dotted names");
}

TEST(TableList, Duplicates) {
    EXPECT_CONFIG_ERROR("a.b, c.d, a.b", "listed more than once");
    // Folding makes these the same table.
    EXPECT_CONFIG_ERROR("a.b, A.B", "listed more than once");
    EXPECT_CONFIG_ERROR("a.b, \"a\".\"b\"", "listed more than once");
    // Quoted upper case is a different table.
    EXPECT_EQ(parse("a.b, \"A\".b").size(), 2u);
}

TEST(TableList, MaxTables) {
    EXPECT_EQ(parse_table_list("a.a, a.b, a.c", 3).size(), 3u);
    Error e = parse_error("a.a, a.b, a.c", 2);
    EXPECT_EQ(e.kind(), ErrorKind::invalid_config);
    EXPECT_STREQ(e.what(), "too many tables in table list");
    EXPECT_NE(e.detail().find("2"), std::string::npos);
    EXPECT_TRUE(parse_table_list("", 0).empty());
}

TEST(TableList, IdentifierLengthLimit) {
    std::string ok(63, 'a'), long_name(64, 'a');
    EXPECT_EQ(parse("s." + ok)[0].table, ok);
    EXPECT_EQ(parse("\"" + ok + "\".t")[0].schema, ok);
    EXPECT_CONFIG_ERROR("s." + long_name, "is too long");
    EXPECT_CONFIG_ERROR("\"" + long_name + "\".t", "is too long");
    // The limit is in bytes: 32 two-byte characters are 64 bytes.
    std::string wide;
    for (int i = 0; i < 32; i++)
        wide += "\xC3\xA9";
    EXPECT_CONFIG_ERROR("s." + wide, "is too long");
}

TEST(TableList, UnterminatedQuote) {
    EXPECT_CONFIG_ERROR("a.\"events", "unterminated quoted identifier");
    EXPECT_CONFIG_ERROR("\"a.b", "unterminated quoted identifier");
    EXPECT_CONFIG_ERROR("a.\"x\"\"", "unterminated quoted identifier");
}

TEST(TableList, OtherSyntaxErrors) {
    EXPECT_CONFIG_ERROR("a.b,", "invalid table name");
    EXPECT_CONFIG_ERROR(",a.b", "invalid table name");
    EXPECT_CONFIG_ERROR("a.b,,c.d", "invalid table name");
    EXPECT_CONFIG_ERROR("a.b c.d", "invalid table list syntax");
    EXPECT_CONFIG_ERROR("a.b; c.d", "invalid table list syntax");
    EXPECT_CONFIG_ERROR(".b", "invalid table name");
    EXPECT_CONFIG_ERROR("a.", "invalid table name");
    EXPECT_CONFIG_ERROR("1a.b", "invalid table name");
    EXPECT_CONFIG_ERROR("\"\".b", "zero-length quoted identifier");
}

} // namespace
