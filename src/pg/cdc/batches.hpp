// Turns decoded INSERTs into durable objects (cdc mode, inside the cdc worker).
//
// Vocabulary:
//   staged   rows of the transaction being decoded, in worker-local memory;
//   buffered rows of committed transactions, in the shared-memory pool;
//   segment  a standalone object holding part of one large transaction.
//
// Every object is named after its first row (commit LSN and time of that row's
// transaction, and the row's position in it), so that after a crash the rows
// decoded again from the slot's confirmed position land under the same keys and
// replace, never duplicate, what was written before. For that, where an object
// starts must not depend on timing:
//   - the pool holds whole transactions only, and is sealed whole into a batch
//     that ends at a transaction's commit; the slot is confirmed there once the
//     batch is durable, and only one batch is written at a time, so a batch
//     starts at the first row after a confirmed position, both before and after
//     a crash (after one, the batch may end elsewhere: its objects are then
//     replaced, under the same keys, by ones holding more or fewer rows, and
//     the next batch starts right after);
//   - a large transaction is written, table by table, as segments whose
//     boundaries depend only on its own rows (their size as stored, see
//     row_source_bytes()), never on settings;
//   - a transaction too large for even an empty pool (a small buffer_size) is
//     written as segments after everything before it, and the slot confirmed
//     past it, so that no replay starts inside it.
#pragma once

extern "C" {
#include "postgres.h"
#include "access/xlogdefs.h"
#include "lib/stringinfo.h"
#include "replication/reorderbuffer.h"
}

#include <csignal>

#include "pg/common/settings.hpp"
#include "pg/encode/time_range.hpp"

namespace convoy {
class TableBuffers;
}

namespace convoy::pg {

// The shared-memory pool of buffered rows (shared_state.hpp).
TableBuffers cdc_pool();

// Set while the worker writes out what it holds before stopping: a shutdown
// request does not cancel that last flush's storage requests until
// final_flush_budget_secs have passed, so a dead store cannot hold up shutdown.
extern volatile sig_atomic_t cdc_final_flush;
constexpr int final_flush_budget_secs = 30;
// Starts that clock (defined with the storage requests it limits).
void start_final_flush_clock();

// Whether the pool (convoy_backup.buffer_size) can serve that many tables, and
// the size in kB it would need.
bool cdc_pool_fits(const ConfiguredTables &tables);
Size cdc_pool_needed_kb(const ConfiguredTables &tables);

// Prepares worker-local state for tables (copied, each with its time column:
// its own or convoy_backup.time_column) and clears the pool; reports a buffer
// too small for that many tables (see cdc_pool_fits()) as an ERROR.
void cdc_start(const ConfiguredTables &tables);
bool cdc_active();
const ConfiguredTables &cdc_tables();

// A table's name and time column as its manifests spell them (UTF-8).
struct ManifestNames {
    const char *table;
    const char *time_column;
};
const ManifestNames &cdc_manifest_names(int table);

// The output plugin's side, in worker mode: append one encoded row plus '\n' to
// the buffer cdc_staging_buffer() returns, noting its time in the range
// cdc_staging_times() returns, then call cdc_row_staged() with the row's
// row_source_bytes().
StringInfo cdc_staging_buffer(int table);
TimeRange *cdc_staging_times(int table);
void cdc_row_staged(int table, ReorderBufferTXN *txn, Size source_bytes);
void cdc_commit_transaction(ReorderBufferTXN *txn);

// A row that cannot be encoded (its JSON would exceed 1 GB): noted by the output
// plugin while the error is raised, so that the worker waits instead of
// decoding the same row again after every restart.
struct UnencodableRow {
    bool noted;
    int table;
    XLogRecPtr commit_lsn; // its transaction's commit record
    XLogRecPtr end_lsn;    // and the end of that record
};
void cdc_note_unencodable_row(int table, ReorderBufferTXN *txn);
const UnencodableRow &cdc_unencodable_row();
// Forgets the rows staged for the transaction being decoded.
void cdc_discard_staged();

// Seals every table's buffered rows as one batch and starts writing it in the
// background (cdc/writer.hpp); the slot is confirmed up to confirm_lsn once it
// is durable, at once if nothing is buffered. Requires !cdc_writer_busy().
void cdc_start_flush(XLogRecPtr confirm_lsn);
// Writes every buffered row, then confirms the slot up to confirm_lsn; returns
// when that is done.
void cdc_flush(XLogRecPtr confirm_lsn);
// Nothing buffered and nothing being written.
bool cdc_pool_empty();

// Confirms the slot up to lsn (never backwards) and makes it crash-safe.
void cdc_confirm(XLogRecPtr lsn);

} // namespace convoy::pg
