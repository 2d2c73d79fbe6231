// Export mode's unit of work: one window [start, end) of every configured table,
// read from the active snapshot and written as one object per table.
#pragma once

extern "C" {
#include "postgres.h"
#include "datatype/timestamp.h"
}

#include "pg/settings.hpp"

namespace convoy::pg {

struct TableExport {
    char table[sizeof(ConfiguredTable::display)];
    int64 rows;
    int64 bytes; // compressed bytes in storage
    char key[1024];
};

// Exports each configured table's rows with start <= time column < end (less
// soft-deleted rows when convoy_backup.skip_deleted_rows is on), streaming them
// through the same row encoder as cdc mode. Only ordinary and partitioned tables
// are read, each as its owner in a security-restricted operation with
// search_path pinned to pg_catalog, pg_temp (the caller's user and settings are
// restored afterwards). Needs a transaction, SPI connected and an active
// snapshot, which every table is read from. ERRORs on failure, in which case no
// object of that table is left half-written. Returns the count of results filled
// in (one per configured table).
int export_window(TimestampTz start, TimestampTz end, TableExport *results);

// How many transactions of this database could still commit rows dated before
// end: those that began before it (and prepared transactions, whose start is
// unknown). A window is exported only once this is zero. Needs SPI connected.
int64 transactions_open_before(TimestampTz end);

} // namespace convoy::pg
