// Export mode's unit of work: one window [start, end) of every configured table,
// read from the active snapshot and written as one object per table.
#pragma once

extern "C" {
#include "postgres.h"
#include "datatype/timestamp.h"
#include "storage/lock.h"
}

#include "pg/common/settings.hpp"

namespace convoy::pg {

struct TableExport {
    char table[sizeof(ConfiguredTable::display)];
    int64 rows;
    int64 bytes; // compressed bytes in storage
    char key[1024];  // as stored: with the store's prefix
    char store[512]; // which store: kind and bucket, container or directory
};

// Exports each configured table's rows with start <= time column < end (less
// soft-deleted rows when convoy_backup.skip_deleted_rows is on), streaming them
// through the same row encoder as cdc mode. Only ordinary and partitioned tables
// are read, each as its owner in a security-restricted operation with
// search_path pinned to pg_catalog, pg_temp (the caller's user and settings are
// restored afterwards). Needs a transaction, SPI connected and an active
// snapshot, which every table is read from. Each object is followed by its
// manifest (docs/catalog.md). ERRORs on failure, in which case no object of
// that table is left half-written (an object without its manifest may be). Returns the count of results filled
// in (one per configured table).
int export_window(TimestampTz start, TimestampTz end, TableExport *results);

// Settling a window [start, end): its rows are read from a snapshot taken only
// once no transaction that could still commit rows dated before `end` is open.
//
// Which transactions are those? A row's time column, when the database sets it
// (DEFAULT now(), statement_timestamp(), clock_timestamp()), is read from the
// clock at or after its transaction's start. A transaction that starts once the
// clock has passed `end` therefore dates its rows at `end` or later, and every
// transaction that could still date a row before `end` is open at any moment
// after `end`. So at such a moment, the settle point, the export takes the
// virtual transaction IDs of every transaction open in this database, from the
// proc array, and waits until each has ended. Nothing hides a transaction from
// the proc array (pg_stat_activity.xact_start, which the check read before, is
// never set in a session with track_activities = off), and prepared
// transactions have an entry there too, whose wait goes on until COMMIT or
// ROLLBACK PREPARED. Left out are this backend, autovacuum workers and running
// lazy VACUUMs, which insert no rows, and the transactions that
// pg_stat_activity shows as begun at or after `end`, whose now() is past it: a
// session cannot make that time later than its transaction's start, only hide
// it (then it is waited for). Such a transaction only delays the window anyway,
// for a client-dated row of it is covered only by export_delay (see below);
// leaving them out keeps a long transaction that began after the window's end
// from holding it back.
//
// The settle point is settle_margin_us after `end`: a transaction takes now()
// when its first statement arrives, a moment before it enters the proc array.
// Clients whose clocks lag are covered by convoy_backup.export_delay, after
// which the scheduler queues a window.
constexpr int64 settle_margin_us = USECS_PER_SEC;

struct OpenTransactions {
    VirtualTransactionId *vxids; // palloc'd in the caller's memory context
    int count;
};

// Sleeps until the settle point of a window ending at end; CHECK_FOR_INTERRUPTS()
// serves cancels and terminations meanwhile.
void wait_for_settle_point(TimestampTz end);

// The transactions open now in this database (see above). Call it after
// wait_for_settle_point(); needs no transaction.
OpenTransactions open_transactions();

// Forgets the transactions that have ended, or that pg_stat_activity shows as
// begun at or after end, and returns how many are left, without waiting.
// Needs a transaction.
int forget_settled_transactions(OpenTransactions *open, TimestampTz end);

// Describes the open transactions for a log message: "process 123, process
// 456, a prepared transaction" (palloc'd).
char *describe_open_transactions(const OpenTransactions &open);

// Forgets the settled ones, as forget_settled_transactions() does, and waits
// until every other one has ended, as a lock wait: lock_timeout,
// statement_timeout, cancels and the deadlock detector end it with an ERROR,
// whose context names the window. Needs a transaction.
void wait_for_open_transactions(OpenTransactions *open, TimestampTz end);

} // namespace convoy::pg
