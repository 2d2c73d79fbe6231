// A backup line back into a row of a table's row type, with
// json_populate_record's semantics (what docs/operations.md#restoring does by
// hand), also for a line that holds the JSON escape \u0000, which PostgreSQL's
// json functions cannot read: such a line is read with an escape it does not
// otherwise hold standing in for \u0000, which is turned back in the row's
// text (only json values can hold it there).
#pragma once

extern "C" {
#include "postgres.h"
#include "fmgr.h"
}

namespace convoy::pg {

struct LineRecord;

// Prepares the conversion to rowtype (a table's composite type). Allocates in
// the current memory context, which must outlive the conversions.
LineRecord *create_line_record(Oid rowtype);

// The row of the line, a composite Datum allocated in the current memory
// context. line is UTF-8 JSON (one object), len bytes, not NUL-terminated;
// it is converted to the database encoding first. nul_escape: the line holds
// the escape \u0000 (see core/json/line_scan.hpp). ERRORs like
// json_populate_record() for a line that does not fit the row type.
Datum line_to_record(LineRecord *conversion, const char *line, int len, bool nul_escape);

} // namespace convoy::pg
