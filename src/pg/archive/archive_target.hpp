// The table whose backup is read back: its name as object keys spell it, its
// time column, its primary key, and the JSON member names lines use for them.
#pragma once

extern "C" {
#include "postgres.h"
#include "access/attnum.h"
#include "datatype/timestamp.h"
#include "nodes/pg_list.h"
}

#include "pg/common/settings.hpp"

namespace convoy::pg {

struct ArchiveTable {
    Oid relid;
    char display[sizeof(ConfiguredTable::display)]; // schema.table as configured
    char *key_component;                            // display as it is in keys (encoded)
    char time_column[NAMEDATALEN];
    AttrNumber time_attnum;
    Oid time_type; // TIMESTAMPTZOID, TIMESTAMPOID or DATEOID
    // Primary key columns (none: rows are compared whole).
    int key_count;
    AttrNumber key_attnums[INDEX_MAX_KEYS];
    Oid key_constraint; // the primary key constraint, or InvalidOid
    bool key_deferrable; // ON CONFLICT cannot use it
    // Member names as lines write them (escaped UTF-8, without quotes): the key
    // columns, then the time column unless it is one of them.
    char **members;
    int member_count;
    int time_member; // index of the time column's in members
};

// Resolves relid, which must be an ordinary or partitioned table, with a time
// column of type timestamptz, timestamp or date: the table's own from
// convoy_backup.tables if it names one, else convoy_backup.time_column.
// ERRORs with a message that says what to change otherwise.
ArchiveTable *resolve_archive_table(Oid relid, const char *function);

// The primary key of relid (columns and constraint), filled into table.
void find_primary_key(Oid relid, ArchiveTable *table);

// [start, end) in the core's microseconds since 1970 (infinities saturate).
int64 unix_micros_saturating(TimestampTz t);

// Quotes a member name as the row encoder writes keys: UTF-8, JSON-escaped.
char *json_member_name(const char *column);

} // namespace convoy::pg
