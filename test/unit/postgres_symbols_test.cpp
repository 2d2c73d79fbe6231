// The extension runs inside the postgres executable, whose exported functions
// take precedence over a shared library's of the same name. PostgreSQL defines
// json_object() (the SQL function, called with PG_FUNCTION_ARGS), and so does
// jansson: a call of jansson's from the core lands in PostgreSQL's and crashes
// the backend. This test binary defines its own json_object(), as the
// executable does, so that such a call fails here too.
#include <gtest/gtest.h>

#include <cstdlib>

#include "core/catalog/manifest.hpp"

extern "C" {
// Stands for PostgreSQL's json_object(); never called by correct code.
void *json_object(void *) {
    std::abort();
}
}

namespace {

TEST(PostgresSymbols, ManifestsDoNotCallNamesPostgresDefines) {
    convoy::Manifest m;
    m.key = "backup/d/t/x.jsonl.gz";
    m.table = "convoy.events";
    m.sha256 = std::string(64, '0');
    m.time_column = "created_at";
    EXPECT_EQ(convoy::manifest_from_json(convoy::manifest_to_json(m)).key, m.key);
}

} // namespace
