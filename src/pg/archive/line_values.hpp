// A backup line into the values of a table's columns, as json_populate_record
// would make them, without building the record: each column's member (found
// by the reader thread) goes through the column type's input function, with
// the text json_populate_record would hand it (a string's unescaped text, a
// number's or object's text as written; re-quoted for json and jsonb).
//
// That shortcut is taken in UTF-8 databases for tables whose columns are all
// of scalar types (no domain, array or composite, whose values
// json_populate_record reads in its own ways) and for lines without the
// escape \u0000 or escaped keys; other lines go through line_record.hpp.
#pragma once

#include "core/json/line_scan.hpp"

extern "C" {
#include "postgres.h"
#include "access/attnum.h"
}

namespace convoy::pg {

struct LineValues;

// For columns (attribute numbers, none dropped) of table relid.
LineValues *create_line_values(Oid relid, int column_count, const AttrNumber *columns);

// The member names to find in each line, one per column, in order.
char **line_values_members(LineValues *conversion);

// Fills values and nulls (one per column) from line (UTF-8, len bytes) and
// its members, found as line_values_members() names them. ERRORs like
// json_populate_record() for a line that does not fit.
void line_to_values(LineValues *conversion, const char *line, int len,
                    const json::MemberValue *members, bool nul_escape, bool escaped_key,
                    Datum *values, bool *nulls);

} // namespace convoy::pg
