// SQL-callable functions of the extension.
#include "core/batch/table_buffers.hpp"

extern "C" {
#include "postgres.h"
#include "access/xlog.h"
#include "fmgr.h"
#include "funcapi.h"
#include "replication/slot.h"
#include "utils/builtins.h"
#include "utils/pg_lsn.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"
}

#include "pg/common/settings.hpp"
#include "pg/common/slot_position.hpp"
#include "pg/common/shared_state.hpp"

namespace convoy::pg {

namespace {

enum StatusColumn {
    col_scope,
    col_slot_name,
    col_confirmed_lsn,
    col_lag_bytes,
    col_buffered_rows,
    col_buffered_bytes,
    col_rows_written,
    col_objects_written,
    col_last_flush,
    col_last_error,
    col_exported_until,
    col_export_lag,
    col_last_object,
    col_store,
    col_retry_count,
    col_next_retry,
    col_oldest_buffered_age,
    status_columns
};

SharedState *require_shared_state() {
    SharedState *state = shared_state();
    if (state == nullptr)
        ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                        errmsg("convoy_backup must be loaded via shared_preload_libraries"),
                        errhint("Add convoy_backup to shared_preload_libraries in postgresql.conf "
                                "and restart the server.")));
    return state;
}

Datum timestamp_or_null(TimestampTz value, bool *isnull) {
    *isnull = value == 0;
    return TimestampTzGetDatum(value);
}

// now - since, as an interval (never negative).
Datum interval_since(TimestampTz since) {
    TimestampTz now = GetCurrentTimestamp();
    Interval *age = static_cast<Interval *>(palloc0(sizeof(Interval)));
    age->time = now > since ? now - since : 0;
    return IntervalPGetDatum(age);
}

Datum text_or_null(const char *value, bool *isnull) {
    *isnull = value[0] == '\0';
    return *isnull ? (Datum) 0 : CStringGetTextDatum(value);
}

} // namespace

} // namespace convoy::pg

extern "C" {

PG_FUNCTION_INFO_V1(convoy_backup_status);

Datum convoy_backup_status(PG_FUNCTION_ARGS) {
    using namespace convoy::pg;
    SharedState *state = require_shared_state();
    InitMaterializedSRF(fcinfo, 0);
    ReturnSetInfo *rsinfo = reinterpret_cast<ReturnSetInfo *>(fcinfo->resultinfo);

    bool slot_exists;
    XLogRecPtr confirmed = slot_confirmed_position(&slot_exists);
    XLogRecPtr flushed = RecoveryInProgress() ? InvalidXLogRecPtr : GetFlushRecPtr(nullptr);

    // Copy under the lock, build tuples after it.
    SharedState snapshot;
    convoy::BufferedTableStats buffered[max_backup_tables];
    convoy::BufferedTableStats buffered_total;
    LWLockAcquire(state->lock, LW_SHARED);
    memcpy(&snapshot, state, offsetof(SharedState, pool));
    convoy::TableBuffers pool = convoy::TableBuffers::attach(state->pool);
    // The oldest buffered row: in the write being retried, or the first of a
    // table's open rows.
    TimestampTz oldest_buffered = snapshot.writing_since;
    for (int i = 0; i < snapshot.table_count; i++) {
        // Open rows and those sealed into the batch being written.
        convoy::BufferedTableStats open = pool.stats(i), sealed = pool.sealed_stats(i);
        buffered[i] = convoy::BufferedTableStats{open.rows + sealed.rows, open.bytes + sealed.bytes};
        TimestampTz first = snapshot.tables[i].batch_commit_time;
        if (open.rows > 0 && (oldest_buffered == 0 || first < oldest_buffered))
            oldest_buffered = first;
    }
    buffered_total = pool.total();
    LWLockRelease(state->lock);

    Datum values[status_columns];
    bool nulls[status_columns];

    memset(nulls, 0, sizeof(nulls));
    values[col_scope] = CStringGetTextDatum("worker");
    values[col_slot_name] = CStringGetTextDatum(setting_slot_name);
    nulls[col_confirmed_lsn] = !slot_exists || confirmed == InvalidXLogRecPtr;
    values[col_confirmed_lsn] = LSNGetDatum(confirmed);
    nulls[col_lag_bytes] = nulls[col_confirmed_lsn] || flushed == InvalidXLogRecPtr;
    values[col_lag_bytes] = Int64GetDatum(flushed > confirmed ? int64(flushed - confirmed) : 0);
    values[col_buffered_rows] = Int64GetDatum(int64(buffered_total.rows));
    values[col_buffered_bytes] = Int64GetDatum(int64(buffered_total.bytes));
    values[col_rows_written] = Int64GetDatum(int64(snapshot.rows_written));
    values[col_objects_written] = Int64GetDatum(int64(snapshot.objects_written));
    values[col_last_flush] = timestamp_or_null(snapshot.last_flush, &nulls[col_last_flush]);
    values[col_last_error] = text_or_null(snapshot.last_error, &nulls[col_last_error]);
    values[col_exported_until] =
        timestamp_or_null(snapshot.exported_until, &nulls[col_exported_until]);
    nulls[col_export_lag] = nulls[col_exported_until];
    if (!nulls[col_export_lag]) {
        values[col_export_lag] = interval_since(snapshot.exported_until);
    }
    nulls[col_last_object] = nulls[col_store] = true; // per table
    values[col_retry_count] = Int32GetDatum(snapshot.write_failures);
    values[col_next_retry] = timestamp_or_null(snapshot.next_retry, &nulls[col_next_retry]);
    nulls[col_oldest_buffered_age] = oldest_buffered == 0;
    if (!nulls[col_oldest_buffered_age])
        values[col_oldest_buffered_age] = interval_since(oldest_buffered);
    tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);

    for (int i = 0; i < snapshot.table_count; i++) {
        const TableState &t = snapshot.tables[i];
        memset(nulls, 0, sizeof(nulls));
        values[col_scope] = CStringGetTextDatum(t.name);
        nulls[col_slot_name] = nulls[col_confirmed_lsn] = nulls[col_lag_bytes] = true;
        values[col_buffered_rows] = Int64GetDatum(int64(buffered[i].rows));
        values[col_buffered_bytes] = Int64GetDatum(int64(buffered[i].bytes));
        values[col_rows_written] = Int64GetDatum(int64(t.rows_written));
        values[col_objects_written] = Int64GetDatum(int64(t.objects_written));
        values[col_last_flush] = timestamp_or_null(t.last_flush, &nulls[col_last_flush]);
        values[col_last_error] = text_or_null(t.last_error, &nulls[col_last_error]);
        nulls[col_exported_until] = nulls[col_export_lag] = true;
        values[col_last_object] = text_or_null(t.last_object, &nulls[col_last_object]);
        values[col_store] = text_or_null(t.last_store, &nulls[col_store]);
        nulls[col_retry_count] = nulls[col_next_retry] = nulls[col_oldest_buffered_age] = true;
        tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
    }
    return (Datum) 0;
}

}
