// The shared-memory state of convoy_backup: the per-table row buffers of cdc mode
// and the counters convoy_backup_status() reports.
//
// Only the cdc worker changes buffers and counters; backends read them. Every
// read or write of the fields below, and every TableBuffers call, happens under
// `lock`. The buffered bytes themselves are read only by the worker, which is
// their sole writer, so flushing needs no lock while it streams them out.
#pragma once

extern "C" {
#include "postgres.h"
#include "access/xlogdefs.h"
#include "datatype/timestamp.h"
#include "storage/lwlock.h"
}

#include "pg/common/settings.hpp"
#include "pg/encode/time_range.hpp"

namespace convoy::pg {

constexpr int max_error_text = 512;

struct TableState {
    char name[sizeof(ConfiguredTable::display)];
    // Origin of the oldest buffered row: names the object the buffer becomes.
    XLogRecPtr batch_commit_lsn;
    TimestampTz batch_commit_time;
    // And what its manifest records of the buffered rows: the commit of the
    // newest one's transaction, and the range of the table's time column.
    XLogRecPtr batch_last_commit_lsn;
    TimeRange batch_times;
    uint64 rows_written;
    uint64 objects_written;
    uint64 bytes_written; // compressed bytes in storage
    TimestampTz last_flush;
    char last_error[max_error_text];
    char last_object[1024]; // the key of its last object, as stored
    char last_store[256];   // the store that object went to
};

struct SharedState {
    LWLock *lock;
    pid_t worker_pid;
    XLogRecPtr confirmed_lsn;
    TimestampTz last_flush;
    TimestampTz last_error_time;
    char last_error[max_error_text];
    uint64 rows_written;
    uint64 objects_written;
    // The write being retried: failed attempts so far (0: none failing) and
    // when the next one starts; and the commit time of the oldest row it
    // holds (0: no write pending), for the age of the oldest buffered row.
    int write_failures;
    TimestampTz next_retry;
    TimestampTz writing_since;
    int table_count;
    TableState tables[max_backup_tables];
    // Export mode: everything before this is exported (the scheduled windows
    // up to it are completed); 0 when unknown.
    TimestampTz exported_until;
    pid_t export_runner_pid;
    int64 export_running_job; // 0 when the runner is idle
    // Answers of database probes (worker_database.hpp), one per asking worker.
    int database_probe[3];
    Size buffer_bytes;  // the pool's payload size chosen at server start
    alignas(MAXIMUM_ALIGNOF) char pool[FLEXIBLE_ARRAY_MEMBER]; // TableBuffers needs 8-byte alignment
};

// Called from _PG_init in the postmaster: asks for the shared memory and lock.
void request_shared_state();

// The state, or nullptr when the library was not preloaded.
SharedState *shared_state();

// Records an error for convoy_backup_status() (table < 0: the worker's own).
// Takes the lock: call it from PostgreSQL code only.
void record_error(int table, const char *message);
void clear_error(int table);

} // namespace convoy::pg
