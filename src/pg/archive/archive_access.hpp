// What both functions check before reading a backup: their arguments, who may
// call them, and the settings the lines are read and compared with.
#pragma once

extern "C" {
#include "postgres.h"
#include "fmgr.h"
#include "datatype/timestamp.h"
}

#include "pg/archive/archive_target.hpp"

namespace convoy::pg {

// The table, start and end arguments (the first three): none may be null,
// start must be before end.
void read_range_arguments(FunctionCallInfo fcinfo, const char *function, Oid *relid,
                          TimestampTz *start, TimestampTz *end);

// Superusers and members of convoy_backup_operator only (42501 otherwise).
void require_operator(const char *function);

// The caller must be allowed to read the table: its backup is a copy of it.
void require_select(const ArchiveTable *table);

// Restore: superusers, or the owner of into who is an operator too.
void require_restore_target(Oid into, const char *function);

// Pins, until unpin_read_settings(), the settings that decide how values are
// written as text and read back (as the cdc worker writes them by default):
// extra_float_digits 1, IntervalStyle postgres, DateStyle ISO, MDY and
// bytea_output hex; and for the queries over the staged lines, jit off and
// work_mem at an eighth of convoy_backup.read_memory (hash_mem_multiplier 1).
// An ERROR restores them too.
int pin_read_settings();
void unpin_read_settings(int nest_level);

} // namespace convoy::pg
