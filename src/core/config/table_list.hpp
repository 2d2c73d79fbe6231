// Parsing of convoy_backup.tables: "schema.table, other_schema.\"Mixed Case\":inserted_at, ...".
//
// Identifiers follow SQL rules: unquoted ones are folded to lower case, quoted ones
// keep their case and may contain any character ("" stands for a quote). Every name
// must be schema-qualified, so the same setting means the same tables whatever a
// session's search_path. An entry may end in ":column", naming the column that
// export mode windows the table by (the default time column otherwise).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/core_only.hpp"

namespace convoy {

struct QualifiedName {
    std::string schema;
    std::string table;
    std::string time_column = {}; // empty: the configured default

    // schema.table, each part quoted only where SQL would need it.
    std::string display() const;
    bool operator==(const QualifiedName &other) const {
        return schema == other.schema && table == other.table;
    }
};

// Throws Error(invalid_config) naming the offending entry. An empty or
// all-blank list parses to no tables. Duplicate names are refused, as is a list
// longer than max_tables.
std::vector<QualifiedName> parse_table_list(std::string_view text, size_t max_tables);

} // namespace convoy
