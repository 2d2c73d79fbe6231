// Staging, segments, the shared pool and flushing (see cdc/batches.hpp).
#include "core/batch/table_buffers.hpp"

#include "pg/cdc/batches.hpp"
#include "pg/cdc/failover.hpp"
#include "pg/cdc/writer.hpp"
#include "pg/common/shared_state.hpp"
#include "pg/encode/database_encoding.hpp"

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

volatile sig_atomic_t cdc_final_flush = false;

namespace {

struct StagedTable {
    StringInfoData rows;
    uint64 row_count;         // rows of this transaction staged so far, segments included
    uint64 segment_first_row; // position in the transaction of the first staged row
    Size source_bytes;        // row_source_bytes() of the staged rows
    bool segmented;           // part of this transaction was written as a segment
    bool touched;
    TimeRange times;          // of the staged rows
};

bool active = false;
ConfiguredTables tables;
ManifestNames manifest_names[max_backup_tables];
StagedTable staged[max_backup_tables];
int touched[max_backup_tables];
int touched_count = 0;
MemoryContext staging_context = nullptr;

// A table's rows of one transaction are written as a segment whenever their
// row_source_bytes() reach this. A constant, and a measure that no setting
// changes: a transaction decoded again (after a crash, a restart with another
// buffer_size or table list, other output settings) is split at the same rows,
// so its segments replace their earlier copies under the same keys.
constexpr Size segment_source_bytes = 16 * 1024 * 1024;
// The least room for rows the pool must leave after one chunk per table.
constexpr Size min_open_pool_bytes = 128 * 1024;
// A table's staging buffer larger than this is given back after a transaction.
constexpr Size kept_staging_bytes = 64 * 1024;

// Writes the staged rows of table as one segment of the current transaction,
// after any batch being written (one job at a time), and waits until it is durable.
void write_segment(int table, ReorderBufferTXN *txn) {
    StagedTable &s = staged[table];
    cdc_writer_wait();
    CdcObject segment;
    memset(&segment, 0, sizeof(segment));
    segment.table = table;
    segment.rows = s.row_count - s.segment_first_row;
    segment.commit_lsn = txn->final_lsn;
    segment.commit_time = txn->xact_time.commit_time;
    segment.first_row = s.segment_first_row;
    segment.last_commit_lsn = txn->final_lsn;
    segment.times = s.times;
    segment.from_pool = false;
    segment.data = s.rows.data;
    segment.len = static_cast<Size>(s.rows.len);
    // Decoded up to the transaction's commit record (it is replayed at its commit).
    cdc_writer_start(&segment, 1, InvalidXLogRecPtr, txn->end_lsn);
    cdc_writer_wait();
    resetStringInfo(&s.rows);
    s.segment_first_row = s.row_count;
    s.source_bytes = 0;
    s.segmented = true;
    s.times = TimeRange{};
}

void reset_staging() {
    for (int i = 0; i < touched_count; i++) {
        StagedTable &s = staged[touched[i]];
        resetStringInfo(&s.rows);
        // A large transaction's buffer is given back rather than kept at its peak.
        if (s.rows.maxlen > static_cast<int>(kept_staging_bytes)) {
            pfree(s.rows.data);
            // Decoding callbacks run in short-lived contexts: allocate in ours.
            MemoryContext old = MemoryContextSwitchTo(staging_context);
            initStringInfo(&s.rows);
            MemoryContextSwitchTo(old);
        }
        s.row_count = 0;
        s.segment_first_row = 0;
        s.source_bytes = 0;
        s.segmented = false;
        s.touched = false;
        s.times = TimeRange{};
    }
    touched_count = 0;
}

Size pool_free_bytes() {
    SharedState *state = shared_state();
    LWLockAcquire(state->lock, LW_SHARED);
    Size free_bytes = cdc_pool().free_bytes();
    LWLockRelease(state->lock);
    return free_bytes;
}

// Bytes appended since the last seal, over all tables.
Size pool_open_bytes() {
    SharedState *state = shared_state();
    TableBuffers buffers = cdc_pool();
    Size open = 0;
    LWLockAcquire(state->lock, LW_SHARED);
    for (int table = 0; table < tables.count; table++)
        open += buffers.stats(table).bytes;
    LWLockRelease(state->lock);
    return open;
}

} // namespace

// Room for every table's partly filled chunk, and some for rows.
Size pool_needed_bytes(const ConfiguredTables &tables) {
    return Size(Max(tables.count, 1)) * TableBuffers::chunk_bytes + min_open_pool_bytes;
}

bool cdc_pool_fits(const ConfiguredTables &tables) {
    return cdc_pool().capacity_bytes() >= pool_needed_bytes(tables);
}

// The pool's own bookkeeping takes a little of buffer_size too.
Size cdc_pool_needed_kb(const ConfiguredTables &tables) { return pool_needed_bytes(tables) / 1024 + 64; }

void cdc_start(const ConfiguredTables &configured) {
    SharedState *state = shared_state();
    if (!cdc_pool_fits(configured))
        ereport(ERROR,
                (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                 errmsg("convoy_backup.buffer_size is too small for %d tables", configured.count),
                 errhint("Set convoy_backup.buffer_size to at least %zu kB and restart the server.",
                         cdc_pool_needed_kb(configured))));

    if (staging_context == nullptr) {
        staging_context = AllocSetContextCreate(TopMemoryContext, "convoy_backup staging",
                                                ALLOCSET_DEFAULT_SIZES);
        MemoryContext old = MemoryContextSwitchTo(staging_context);
        for (int i = 0; i < max_backup_tables; i++)
            initStringInfo(&staged[i].rows);
        MemoryContextSwitchTo(old);
    }
    tables = configured;
    // Each table's time column is decided here, for as long as this list is
    // in force (the worker follows convoy_backup.time_column as it follows
    // the list, from a WAL position).
    for (int i = 0; i < tables.count; i++)
        if (tables.tables[i].time_column[0] == '\0')
            strlcpy(tables.tables[i].time_column, setting_time_column,
                    sizeof(tables.tables[i].time_column));
    for (int i = 0; i < max_backup_tables; i++) {
        ManifestNames &names = manifest_names[i];
        if (names.table)
            pfree(const_cast<char *>(names.table));
        if (names.time_column)
            pfree(const_cast<char *>(names.time_column));
        names = ManifestNames{nullptr, nullptr};
        if (i < tables.count) {
            names.table = utf8_copy(tables.tables[i].display, staging_context);
            names.time_column = utf8_copy(tables.tables[i].time_column, staging_context);
        }
    }
    touched_count = 0;
    reset_staging();

    // Whatever a previous worker left buffered was never confirmed: it will be
    // decoded again, so start empty.
    LWLockAcquire(state->lock, LW_EXCLUSIVE);
    cdc_pool().clear_all();
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

TableBuffers cdc_pool() { return TableBuffers::attach(shared_state()->pool); }

namespace {
UnencodableRow unencodable = {};
}

void cdc_note_unencodable_row(int table, ReorderBufferTXN *txn) {
    unencodable = UnencodableRow{true, table, txn->final_lsn, txn->end_lsn};
}

const UnencodableRow &cdc_unencodable_row() { return unencodable; }

void cdc_discard_staged() { reset_staging(); }

const ConfiguredTables &cdc_tables() { return tables; }

const ManifestNames &cdc_manifest_names(int table) { return manifest_names[table]; }

TimeRange *cdc_staging_times(int table) { return &staged[table].times; }

StringInfo cdc_staging_buffer(int table) {
    Assert(table >= 0 && table < tables.count);
    StagedTable &s = staged[table];
    if (!s.touched) {
        s.touched = true;
        touched[touched_count++] = table;
    }
    return &s.rows;
}

void cdc_row_staged(int table, ReorderBufferTXN *txn, Size source_bytes) {
    StagedTable &s = staged[table];
    s.row_count++;
    s.source_bytes += source_bytes;
    if (s.source_bytes >= segment_source_bytes)
        write_segment(table, txn);
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
    Size needed = to_buffer + Size(touched_count) * TableBuffers::chunk_bytes;
    if (to_buffer > 0 && needed > cdc_pool().capacity_bytes()) {
        // Too large for even an empty pool (a small buffer_size): everything
        // before it is written first, then its rows as segments, and the slot
        // confirmed past it. Decoding never starts inside it again, so how it
        // was split, which depends on the pool's size, cannot matter.
        cdc_flush(txn->final_lsn);
        for (int i = 0; i < touched_count; i++)
            if (staged[touched[i]].rows.len > 0)
                write_segment(touched[i], txn);
        cdc_confirm(txn->end_lsn);
    } else if (to_buffer > 0) {
        // Either the whole transaction enters the pool or, first, everything
        // before it is flushed and the slot confirmed up to its commit record.
        if (pool_free_bytes() < needed) {
            // The batch being written frees its chunks when it is durable.
            cdc_writer_wait();
            if (pool_free_bytes() < needed)
                cdc_flush(txn->final_lsn);
        }

        LWLockAcquire(state->lock, LW_EXCLUSIVE);
        TableBuffers buffers = cdc_pool();
        for (int i = 0; i < touched_count; i++) {
            int table = touched[i];
            StagedTable &s = staged[table];
            if (s.segmented || s.rows.len == 0)
                continue;
            TableState &t = state->tables[table];
            if (buffers.stats(table).rows == 0) {
                t.batch_commit_lsn = txn->final_lsn;
                t.batch_commit_time = txn->xact_time.commit_time;
                t.batch_times = TimeRange{};
            }
            if (!buffers.append_rows(table, s.rows.data, static_cast<size_t>(s.rows.len),
                                     s.row_count)) {
                LWLockRelease(state->lock);
                elog(ERROR, "convoy_backup buffer has no room for a transaction of %zu bytes",
                     to_buffer);
            }
            t.batch_last_commit_lsn = txn->final_lsn;
            time_range_merge(&t.batch_times, s.times);
        }
        LWLockRelease(state->lock);

        // Start writing once half the pool waits, so that decoding goes on into
        // the other half meanwhile. Everything up to this commit is then in the
        // batch or already written.
        if (!cdc_writer_busy() && pool_open_bytes() >= cdc_pool().capacity_bytes() / 2)
            cdc_start_flush(txn->end_lsn);
    }
    reset_staging();
}

bool cdc_pool_empty() {
    if (cdc_writer_busy())
        return false;
    SharedState *state = shared_state();
    LWLockAcquire(state->lock, LW_SHARED);
    bool empty = cdc_pool().total().rows == 0;
    LWLockRelease(state->lock);
    return empty;
}

void cdc_start_flush(XLogRecPtr confirm_lsn) {
    Assert(!cdc_writer_busy());
    SharedState *state = shared_state();
    TableBuffers buffers = cdc_pool();
    CdcObject objects[max_backup_tables];
    int count = 0;
    LWLockAcquire(state->lock, LW_EXCLUSIVE);
    for (int table = 0; table < tables.count; table++) {
        BufferedTableStats stats = buffers.stats(table);
        // No job is pending, so every sealed queue was released.
        if (stats.rows == 0 || !buffers.seal(table))
            continue;
        TableState &t = state->tables[table];
        CdcObject &o = objects[count++];
        memset(&o, 0, sizeof(o));
        o.table = table;
        o.rows = stats.rows;
        o.commit_lsn = t.batch_commit_lsn;
        o.commit_time = t.batch_commit_time;
        o.first_row = 0;
        o.last_commit_lsn = t.batch_last_commit_lsn;
        o.times = t.batch_times;
        o.from_pool = true;
        t.batch_commit_lsn = InvalidXLogRecPtr;
    }
    LWLockRelease(state->lock);
    if (count > 0) {
        // Every transaction in the batch committed before confirm_lsn.
        cdc_writer_start(objects, count, confirm_lsn, confirm_lsn);
        return;
    }
    // Nothing buffered: everything decoded up to here is durable.
    cdc_confirm(confirm_lsn);
    LWLockAcquire(state->lock, LW_EXCLUSIVE);
    state->last_flush = GetCurrentTimestamp();
    LWLockRelease(state->lock);
}

void cdc_flush(XLogRecPtr confirm_lsn) {
    cdc_writer_wait();
    cdc_start_flush(confirm_lsn);
    cdc_writer_wait();
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
        mark_backed_up(lsn);
    }
    LWLockAcquire(state->lock, LW_EXCLUSIVE);
    state->confirmed_lsn = confirmed;
    LWLockRelease(state->lock);
}

} // namespace convoy::pg
