// Staging, segments, the shared pool and flushing (see cdc_batches.hpp).
#include "core/batch/gzip_object.hpp"
#include "core/batch/object_key.hpp"
#include "core/batch/table_buffers.hpp"
#include "pg/boundary.hpp"
#include "pg/storage_access.hpp"

#include "pg/cdc_batches.hpp"
#include "pg/shared_state.hpp"

extern "C" {
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/interrupt.h"
#include "replication/logical.h"
#include "replication/slot.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"
}

namespace convoy::pg {

volatile sig_atomic_t cdc_shutdown_requested = false;
volatile sig_atomic_t cdc_final_flush = false;

namespace {

struct StagedTable {
    StringInfoData rows;
    uint64 row_count;         // rows of this transaction staged so far, segments included
    uint64 segment_first_row; // position in the transaction of the first staged row
    bool segmented;           // part of this transaction was written as a segment
    bool touched;
};

bool active = false;
ConfiguredTables tables;
StagedTable staged[max_backup_tables];
int touched[max_backup_tables];
int touched_count = 0;
Size staged_bytes = 0;
Size segment_bytes = 0;
MemoryContext staging_context = nullptr;

constexpr Size min_segment_bytes = 64 * 1024;
constexpr Size max_segment_bytes = 16 * 1024 * 1024;
constexpr int max_retry_delay_ms = 60 * 1000;

// PostgreSQL's epoch (2000-01-01) to Unix time, in microseconds.
constexpr int64 postgres_epoch_unix_micros =
    int64(POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * USECS_PER_DAY;

TableBuffers pool() { return TableBuffers::attach(shared_state()->pool); }

struct ObjectOrigin {
    int table;
    XLogRecPtr commit_lsn;
    TimestampTz commit_time;
    uint64 first_row;
};

struct WriteResult {
    uint64 compressed_bytes;
};

// Waits before the next attempt; handles reloads, which may fix the storage
// settings, and a shutdown request, which ends the process: nothing unconfirmed
// is lost, it is decoded again from the slot.
void wait_before_retry(int delay_ms) {
    int rc = WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, delay_ms,
                       PG_WAIT_EXTENSION);
    if (rc & WL_LATCH_SET)
        ResetLatch(MyLatch);
    CHECK_FOR_INTERRUPTS();
    if (cdc_shutdown_requested) {
        ereport(LOG, (errmsg("convoy_backup cdc worker stopping with unwritten rows"),
                      errdetail("Rows not yet written will be decoded again from replication "
                                "slot \"%s\" when the worker restarts.",
                                setting_slot_name)));
        proc_exit(1);
    }
    if (ConfigReloadPending) {
        ConfigReloadPending = false;
        ProcessConfigFile(PGC_SIGHUP);
    }
}

// Writes one object, retrying with backoff until it is durable. produce(emit)
// streams the uncompressed bytes.
template <class Producer>
WriteResult write_object(const ObjectOrigin &origin, Producer &&produce) {
    int delay_ms = 1000;
    for (int attempt = 1;; attempt++) {
        WriteResult result{};
        char key_for_log[256] = "";
        CoreFailure failure = run_core([&] {
            BatchOrigin batch{tables.tables[origin.table].display,
                              origin.commit_time + postgres_epoch_unix_micros, origin.commit_lsn,
                              origin.first_row};
            std::string key = object_key(batch);
            strlcpy(key_for_log, key.c_str(), sizeof(key_for_log));
            ObjectWritten written = write_gzip_object(configured_storage(), key, produce);
            result.compressed_bytes = written.compressed_bytes;
        });
        if (!failure.failed) {
            if (attempt > 1)
                ereport(LOG, (errmsg("convoy_backup wrote object \"%s\" after %d attempts",
                                     key_for_log, attempt)));
            clear_error(origin.table);
            clear_error(-1);
            return result;
        }
        record_error(origin.table, failure.message);
        // Logged on the first failure and then at most once a minute.
        if (attempt == 1 || delay_ms >= max_retry_delay_ms)
            ereport(WARNING,
                    (errcode(sqlstate_for(failure.kind)),
                     errmsg("convoy_backup could not write backup object for table %s: %s",
                            tables.tables[origin.table].display, failure.message),
                     failure.detail[0] ? errdetail_internal("%s", failure.detail) : 0,
                     errhint("The rows stay buffered and the write is retried; the replication "
                             "slot does not advance until they are written.")));
        wait_before_retry(delay_ms);
        delay_ms = Min(delay_ms * 2, max_retry_delay_ms);
    }
}

void count_written(int table, uint64 rows, const WriteResult &result) {
    SharedState *state = shared_state();
    TimestampTz now = GetCurrentTimestamp();
    LWLockAcquire(state->lock, LW_EXCLUSIVE);
    TableState &t = state->tables[table];
    t.rows_written += rows;
    t.objects_written++;
    t.bytes_written += result.compressed_bytes;
    t.last_flush = now;
    state->rows_written += rows;
    state->objects_written++;
    LWLockRelease(state->lock);
}

// Writes the staged rows of table as one segment of the current transaction.
void write_segment(int table, ReorderBufferTXN *txn) {
    StagedTable &s = staged[table];
    ObjectOrigin origin{table, txn->final_lsn, txn->xact_time.commit_time, s.segment_first_row};
    uint64 rows = s.row_count - s.segment_first_row;
    WriteResult result = write_object(origin, [&s](auto &&emit) {
        emit(s.rows.data, static_cast<size_t>(s.rows.len));
    });
    count_written(table, rows, result);
    staged_bytes -= s.rows.len;
    resetStringInfo(&s.rows);
    s.segment_first_row = s.row_count;
    s.segmented = true;
}

// Writes the largest staged table as a segment. Which table that is depends only
// on the transaction's own rows, as segment boundaries must.
void write_largest_segment(ReorderBufferTXN *txn) {
    int largest = touched[0];
    for (int i = 1; i < touched_count; i++)
        if (staged[touched[i]].rows.len > staged[largest].rows.len)
            largest = touched[i];
    write_segment(largest, txn);
}

void reset_staging() {
    for (int i = 0; i < touched_count; i++) {
        StagedTable &s = staged[touched[i]];
        resetStringInfo(&s.rows);
        // A large transaction's buffer is given back rather than kept at its peak.
        if (s.rows.maxlen > static_cast<int>(min_segment_bytes)) {
            pfree(s.rows.data);
            // Decoding callbacks run in short-lived contexts: allocate in ours.
            MemoryContext old = MemoryContextSwitchTo(staging_context);
            initStringInfo(&s.rows);
            MemoryContextSwitchTo(old);
        }
        s.row_count = 0;
        s.segment_first_row = 0;
        s.segmented = false;
        s.touched = false;
    }
    touched_count = 0;
    staged_bytes = 0;
}

} // namespace

void cdc_start(const ConfiguredTables &configured) {
    SharedState *state = shared_state();
    Size capacity = pool().capacity_bytes();
    // Room for every table's partly filled chunk, then half of the rest per
    // transaction, so that a staged transaction always fits in an empty pool.
    Size reserve = Size(Max(configured.count, 1)) * TableBuffers::chunk_bytes;
    Size segment = capacity > reserve ? (capacity - reserve) / 2 : 0;
    if (segment < min_segment_bytes)
        ereport(ERROR,
                (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                 errmsg("convoy_backup.buffer_size is too small for %d tables", configured.count),
                 errhint("Set convoy_backup.buffer_size to at least %zu kB and restart the server.",
                         (reserve + 2 * min_segment_bytes) / 1024 + 64)));
    segment_bytes = Min(segment, max_segment_bytes);

    if (staging_context == nullptr) {
        staging_context = AllocSetContextCreate(TopMemoryContext, "convoy_backup staging",
                                                ALLOCSET_DEFAULT_SIZES);
        MemoryContext old = MemoryContextSwitchTo(staging_context);
        for (int i = 0; i < max_backup_tables; i++)
            initStringInfo(&staged[i].rows);
        MemoryContextSwitchTo(old);
    }
    tables = configured;
    touched_count = 0;
    reset_staging();

    // Whatever a previous worker left buffered was never confirmed: it will be
    // decoded again, so start empty.
    LWLockAcquire(state->lock, LW_EXCLUSIVE);
    pool().clear_all();
    state->table_count = tables.count;
    for (int i = 0; i < max_backup_tables; i++) {
        TableState &t = state->tables[i];
        if (i < tables.count) {
            if (strcmp(t.name, tables.tables[i].display) != 0) {
                memset(&t, 0, sizeof(t));
                strlcpy(t.name, tables.tables[i].display, sizeof(t.name));
            }
        } else {
            memset(&t, 0, sizeof(t));
        }
        t.batch_commit_lsn = InvalidXLogRecPtr;
    }
    LWLockRelease(state->lock);
    active = true;
}

bool cdc_active() { return active; }

const ConfiguredTables &cdc_tables() { return tables; }

StringInfo cdc_staging_buffer(int table) {
    Assert(table >= 0 && table < tables.count);
    StagedTable &s = staged[table];
    if (!s.touched) {
        s.touched = true;
        touched[touched_count++] = table;
    }
    return &s.rows;
}

void cdc_row_staged(int table, ReorderBufferTXN *txn) {
    StagedTable &s = staged[table];
    s.row_count++;
    // Recompute from the buffers: the row was appended by the caller.
    Size total = 0;
    for (int i = 0; i < touched_count; i++)
        total += staged[touched[i]].rows.len;
    staged_bytes = total;
    while (staged_bytes >= segment_bytes)
        write_largest_segment(txn);
}

void cdc_commit_transaction(ReorderBufferTXN *txn) {
    if (touched_count == 0)
        return;
    // The tail of a segmented table is a segment too: its boundaries must not
    // depend on what else the pool holds.
    Size to_buffer = 0;
    for (int i = 0; i < touched_count; i++) {
        StagedTable &s = staged[touched[i]];
        if (s.segmented && s.rows.len > 0)
            write_segment(touched[i], txn);
        else if (!s.segmented)
            to_buffer += s.rows.len;
    }

    SharedState *state = shared_state();
    if (to_buffer > 0) {
        // Either the whole transaction enters the pool or, first, everything
        // before it is flushed and the slot confirmed up to its commit record.
        Size needed = to_buffer + Size(touched_count) * TableBuffers::chunk_bytes;
        LWLockAcquire(state->lock, LW_SHARED);
        Size free_bytes = pool().free_bytes();
        LWLockRelease(state->lock);
        if (free_bytes < needed)
            cdc_flush(txn->final_lsn);

        LWLockAcquire(state->lock, LW_EXCLUSIVE);
        TableBuffers buffers = pool();
        for (int i = 0; i < touched_count; i++) {
            int table = touched[i];
            StagedTable &s = staged[table];
            if (s.segmented || s.rows.len == 0)
                continue;
            if (buffers.stats(table).rows == 0) {
                state->tables[table].batch_commit_lsn = txn->final_lsn;
                state->tables[table].batch_commit_time = txn->xact_time.commit_time;
            }
            if (!buffers.append_rows(table, s.rows.data, static_cast<size_t>(s.rows.len),
                                     s.row_count)) {
                LWLockRelease(state->lock);
                elog(ERROR, "convoy_backup buffer has no room for a transaction of %zu bytes",
                     to_buffer);
            }
        }
        LWLockRelease(state->lock);
    }
    reset_staging();
}

bool cdc_pool_empty() {
    SharedState *state = shared_state();
    LWLockAcquire(state->lock, LW_SHARED);
    bool empty = pool().total().rows == 0;
    LWLockRelease(state->lock);
    return empty;
}

void cdc_flush(XLogRecPtr confirm_lsn) {
    SharedState *state = shared_state();
    TableBuffers buffers = pool();
    for (int table = 0; table < tables.count; table++) {
        LWLockAcquire(state->lock, LW_SHARED);
        BufferedTableStats stats = buffers.stats(table);
        ObjectOrigin origin{table, state->tables[table].batch_commit_lsn,
                            state->tables[table].batch_commit_time, 0};
        LWLockRelease(state->lock);
        if (stats.rows == 0)
            continue;
        // The worker is the pool's only writer: its bytes can be read unlocked.
        WriteResult result = write_object(origin, [&buffers, table](auto &&emit) {
            buffers.for_each_span(table, emit);
        });
        LWLockAcquire(state->lock, LW_EXCLUSIVE);
        buffers.clear(table);
        state->tables[table].batch_commit_lsn = InvalidXLogRecPtr;
        LWLockRelease(state->lock);
        count_written(table, stats.rows, result);
    }
    cdc_confirm(confirm_lsn);
    LWLockAcquire(state->lock, LW_EXCLUSIVE);
    state->last_flush = GetCurrentTimestamp();
    LWLockRelease(state->lock);
}

void cdc_confirm(XLogRecPtr lsn) {
    SharedState *state = shared_state();
    if (MyReplicationSlot == nullptr || lsn == InvalidXLogRecPtr)
        return;
    SpinLockAcquire(&MyReplicationSlot->mutex);
    XLogRecPtr confirmed = MyReplicationSlot->data.confirmed_flush;
    SpinLockRelease(&MyReplicationSlot->mutex);
    if (lsn > confirmed) {
        LogicalConfirmReceivedLocation(lsn);
        // Without this, only the next checkpoint would persist the position.
        ReplicationSlotMarkDirty();
        ReplicationSlotSave();
        confirmed = lsn;
    }
    LWLockAcquire(state->lock, LW_EXCLUSIVE);
    state->confirmed_lsn = confirmed;
    LWLockRelease(state->lock);
}

} // namespace convoy::pg
