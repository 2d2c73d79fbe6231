// Whether a line's time member is in [start, end), for the lines whose time
// the reader thread could not read itself (it reads timestamptz as to_jsonb
// writes it): read with the time column's type, as a query would compare it.
#pragma once

#include "core/json/line_scan.hpp"

extern "C" {
#include "postgres.h"
#include "datatype/timestamp.h"
#include "fmgr.h"
}

#include "pg/archive/archive_target.hpp"

namespace convoy::pg {

struct TimeFilter;

TimeFilter *create_time_filter(const ArchiveTable *table, TimestampTz start, TimestampTz end);

// member: the time member of line; absent or null is in no range. ERRORs for a
// value the column's type cannot read.
bool time_in_range(TimeFilter *filter, const char *line, const json::MemberValue &member);

} // namespace convoy::pg
