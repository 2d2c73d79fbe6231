// The export scheduler and runner (see export/workers.hpp).
extern "C" {
#include "postgres.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/proc.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/json.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
}

#include "pg/export/window.hpp"
#include "pg/export/workers.hpp"
#include "pg/common/background_worker.hpp"
#include "pg/common/lsn_format.hpp"
#include "pg/common/settings.hpp"
#include "pg/common/slot_position.hpp"
#include "pg/common/shared_state.hpp"
#include "pg/common/unix_time.hpp"
#include "pg/common/worker_database.hpp"
#include "pg/common/worker_wait.hpp"

namespace convoy::pg {

namespace {

constexpr int scheduler_tick_ms = 1000;
constexpr int runner_idle_ms = 2000;
constexpr int max_windows_per_tick = 1000;
constexpr int64 max_retry_delay_secs = 3600;

// A job as claimed by the runner.
struct ClaimedJob {
    int64 id;
    TimestampTz start;
    TimestampTz end;
    int attempts;
};

void wait_or_exit(int timeout_ms) {
    wait_for_latch_or_fd(-1, timeout_ms);
    serve_interrupts_and_reload();
}

// Runs body in its own transaction with SPI and a snapshot.
template <class Body>
void in_transaction(const char *activity, Body &&body) {
    SetCurrentStatementStartTimestamp();
    StartTransactionCommand();
    if (SPI_connect() != SPI_OK_CONNECT)
        elog(ERROR, "SPI_connect failed");
    PushActiveSnapshot(GetTransactionSnapshot());
    pgstat_report_activity(STATE_RUNNING, activity);
    body();
    SPI_finish();
    PopActiveSnapshot();
    CommitTransactionCommand();
    pgstat_report_activity(STATE_IDLE, nullptr);
}

bool extension_installed() {
    int rc = SPI_execute("SELECT FROM pg_catalog.pg_extension WHERE extname = 'convoy_backup'", true, 1);
    return rc == SPI_OK_SELECT && SPI_processed == 1;
}

// Runs a statement with timestamptz/int8 arguments; returns SPI_processed.
uint64 execute(const char *sql, int nargs, Oid *types, Datum *values, bool read_only) {
    int rc = SPI_execute_with_args(sql, nargs, types, values, nullptr, read_only, 0);
    if (rc < 0)
        elog(ERROR, "SPI_execute_with_args failed: %s", SPI_result_code_string(rc));
    return SPI_processed;
}

TimestampTz timestamp_result(int column, bool *isnull) {
    return DatumGetTimestampTz(
        SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, column, isnull));
}

// Window boundaries are multiples of the interval since the Unix epoch (UTC).

TimestampTz align_down(TimestampTz t, int64 interval_us) {
    int64 since_epoch = to_unix_micros(t);
    int64 rem = since_epoch % interval_us;
    if (rem < 0)
        rem += interval_us;
    return t - rem;
}

// Enqueues every window that has ended (plus the export delay) since the last
// scheduled one: after downtime the scheduler catches up window by window.
void enqueue_due_windows() {
    int64 interval_us = int64(setting_interval_secs) * USECS_PER_SEC;
    int64 delay_us = int64(setting_export_delay_secs) * USECS_PER_SEC;
    TimestampTz now = GetCurrentTimestamp();

    execute("SELECT max(window_end) FROM convoy_backup.jobs WHERE kind = 'scheduled'", 0, nullptr,
            nullptr, true);
    bool isnull;
    TimestampTz start = timestamp_result(1, &isnull);
    if (isnull) // First run: begin with the most recent complete window.
        start = align_down(now - delay_us, interval_us) - interval_us;

    Oid types[2] = {TIMESTAMPTZOID, TIMESTAMPTZOID};
    for (int i = 0; i < max_windows_per_tick; i++) {
        // The next boundary after start: windows stay aligned even when the
        // interval changes (the first window after a change may be shorter).
        TimestampTz end = align_down(start, interval_us) + interval_us;
        if (end + delay_us > now)
            break;
        Datum values[2] = {TimestampTzGetDatum(start), TimestampTzGetDatum(end)};
        execute("INSERT INTO convoy_backup.jobs (kind, window_start, window_end)"
                " VALUES ('scheduled', $1, $2) ON CONFLICT DO NOTHING",
                2, types, values, false);
        start = end;
    }
}

// Export mode needs no slot, but one left from cdc mode keeps all WAL from its
// position on (and stops a server whose wal_level is lowered below logical from
// starting): say so once, with the command that drops it, and in the status
// while it exists.
void warn_about_leftover_slot(bool *warned) {
    bool exists = false;
    XLogRecPtr confirmed = slot_confirmed_position(&exists);
    if (!exists) {
        if (*warned) {
            clear_error(-1);
            ereport(LOG, (errmsg("replication slot \"%s\" of cdc mode is gone", setting_slot_name)));
        }
        *warned = false;
        return;
    }
    if (*warned)
        return;
    char message[256];
    snprintf(message, sizeof(message),
             "replication slot \"%s\" of cdc mode still exists in export mode", setting_slot_name);
    record_error(-1, message);
    ereport(WARNING,
            (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE), errmsg("%s", message),
             errdetail("It keeps every WAL segment from %X/%X on, and a server with "
                       "wal_level below logical refuses to start while it exists.",
                       CONVOY_LSN_ARGS(confirmed)),
             errhint("If you stay in export mode, drop it: SELECT pg_drop_replication_slot('%s'); "
                     "see docs/export-mode.md about switching back to cdc.",
                     setting_slot_name)));
    *warned = true;
}

void publish_progress() {
    // Everything before the oldest scheduled window not yet in storage is in
    // storage; with none pending, everything up to the newest one is. A failed
    // window that a completed manual job covers is in storage too.
    execute("SELECT coalesce((SELECT min(s.window_start) FROM convoy_backup.jobs s"
            "                  WHERE s.kind = 'scheduled' AND s.status <> 'completed'"
            "                    AND NOT EXISTS (SELECT FROM convoy_backup.jobs m"
            "                                     WHERE m.kind = 'manual' AND m.status = 'completed'"
            "                                       AND m.window_start <= s.window_start"
            "                                       AND m.window_end >= s.window_end)),"
            "                 (SELECT max(window_end) FROM convoy_backup.jobs"
            "                  WHERE kind = 'scheduled'))",
            0, nullptr, nullptr, true);
    bool isnull;
    TimestampTz until = timestamp_result(1, &isnull);
    SharedState *state = shared_state();
    LWLockAcquire(state->lock, LW_EXCLUSIVE);
    state->exported_until = isnull ? 0 : until;
    LWLockRelease(state->lock);
}

void heartbeat_running_job() {
    SharedState *state = shared_state();
    LWLockAcquire(state->lock, LW_SHARED);
    pid_t runner = state->export_runner_pid;
    int64 job = state->export_running_job;
    LWLockRelease(state->lock);
    if (runner == 0 || job == 0)
        return;
    Oid types[2] = {INT8OID, INT4OID};
    Datum values[2] = {Int64GetDatum(job), Int32GetDatum(runner)};
    execute("UPDATE convoy_backup.jobs SET heartbeat_at = pg_catalog.now()"
            " WHERE id = $1 AND status = 'running' AND claimed_by = $2",
            2, types, values, false);
}

void remove_old_jobs() {
    Oid types[1] = {INT4OID};
    Datum values[1] = {Int32GetDatum(setting_job_retention_secs)};
    execute("DELETE FROM convoy_backup.jobs WHERE status = 'completed'"
            " AND completed_at < pg_catalog.now() - pg_catalog.make_interval(secs => $1)",
            1, types, values, false);
}

bool claim_job(ClaimedJob *job) {
    Oid types[1] = {INT4OID};
    Datum values[1] = {Int32GetDatum(setting_job_timeout_secs)};
    // Pending jobs that are due, and running ones whose worker is gone: its
    // heartbeat stopped, or its process no longer exists.
    execute("UPDATE convoy_backup.jobs SET status = 'running', attempts = attempts + 1,"
            "       claimed_by = pg_catalog.pg_backend_pid(), claimed_at = pg_catalog.now(),"
            "       heartbeat_at = pg_catalog.now()"
            " WHERE id = (SELECT id FROM convoy_backup.jobs j"
            "              WHERE (status = 'pending' AND not_before <= pg_catalog.now())"
            "                 OR (status = 'running'"
            "                     AND (heartbeat_at < pg_catalog.now() - pg_catalog.make_interval(secs => $1)"
            "                          OR NOT EXISTS (SELECT FROM pg_catalog.pg_stat_activity a"
            "                                          WHERE a.pid = j.claimed_by)))"
            "              ORDER BY window_start, id LIMIT 1 FOR UPDATE SKIP LOCKED)"
            " RETURNING id, window_start, window_end, attempts",
            1, types, values, false);
    if (SPI_processed == 0)
        return false;
    bool isnull;
    HeapTuple row = SPI_tuptable->vals[0];
    TupleDesc desc = SPI_tuptable->tupdesc;
    job->id = DatumGetInt64(SPI_getbinval(row, desc, 1, &isnull));
    job->start = DatumGetTimestampTz(SPI_getbinval(row, desc, 2, &isnull));
    job->end = DatumGetTimestampTz(SPI_getbinval(row, desc, 3, &isnull));
    job->attempts = DatumGetInt32(SPI_getbinval(row, desc, 4, &isnull));
    return true;
}

void publish_running_job(int64 job_id) {
    SharedState *state = shared_state();
    LWLockAcquire(state->lock, LW_EXCLUSIVE);
    state->export_runner_pid = job_id ? MyProcPid : 0;
    state->export_running_job = job_id;
    LWLockRelease(state->lock);
}

void runner_exit(int code, Datum arg) { publish_running_job(0); }

// Waits until the transactions that could still commit rows into the window
// have ended (see export/window.hpp). It polls instead of waiting on their
// locks, holding no snapshot in between, so that reloads are served meanwhile.
void wait_until_settled(const ClaimedJob &job) {
    wait_for_settle_point(job.end);
    OpenTransactions open = open_transactions();
    bool reported = false;
    long delay_ms = 10;
    for (;;) {
        int still_open = 0;
        in_transaction("waiting for open transactions",
                       [&] { still_open = forget_settled_transactions(&open, job.end); });
        if (still_open == 0)
            return;
        if (!reported) {
            ereport(LOG, (errmsg_plural("convoy_backup export job %lld waits for %d open transaction",
                                        "convoy_backup export job %lld waits for %d open transactions",
                                        still_open, static_cast<long long>(job.id), still_open),
                          errdetail("Transactions open once the window had ended could still commit "
                                    "rows into it: %s.",
                                    describe_open_transactions(open))));
            reported = true;
        }
        wait_or_exit(delay_ms);
        delay_ms = Min(delay_ms * 2, 1000);
    }
}

// Exports the job's window in one read-only REPEATABLE READ transaction. On
// failure returns false with the error's message in *error (palloc'd).
bool export_job(const ClaimedJob &job, StringInfo tables_json, char **error) {
    MemoryContext caller = CurrentMemoryContext;
    volatile bool ok = true;
    SetCurrentStatementStartTimestamp();
    StartTransactionCommand();
    // Before the first snapshot: every table is read from the same one.
    XactIsoLevel = XACT_REPEATABLE_READ;
    XactReadOnly = true;
    pgstat_report_activity(STATE_RUNNING, "exporting window");
    PG_TRY();
    {
        if (SPI_connect() != SPI_OK_CONNECT)
            elog(ERROR, "SPI_connect failed");
        PushActiveSnapshot(GetTransactionSnapshot());
        TableExport *results = static_cast<TableExport *>(palloc0(sizeof(TableExport) * max_backup_tables));
        int count = export_window(job.start, job.end, results);
        PopActiveSnapshot();
        SPI_finish();
        MemoryContext old = MemoryContextSwitchTo(caller);
        appendStringInfoChar(tables_json, '{');
        for (int i = 0; i < count; i++) {
            if (i > 0)
                appendStringInfoChar(tables_json, ',');
            escape_json(tables_json, results[i].table);
            appendStringInfo(tables_json, ":{\"rows\":%lld,\"bytes\":%lld,\"key\":",
                             static_cast<long long>(results[i].rows),
                             static_cast<long long>(results[i].bytes));
            escape_json(tables_json, results[i].key);
            appendStringInfoString(tables_json, ",\"store\":");
            escape_json(tables_json, results[i].store);
            appendStringInfoChar(tables_json, '}');
        }
        appendStringInfoChar(tables_json, '}');
        MemoryContextSwitchTo(old);
        CommitTransactionCommand();
    }
    PG_CATCH();
    {
        MemoryContextSwitchTo(caller);
        ErrorData *data = CopyErrorData();
        EmitErrorReport();
        FlushErrorState();
        AbortCurrentTransaction();
        *error = pstrdup(data->message ? data->message : "unknown error");
        FreeErrorData(data);
        ok = false;
    }
    PG_END_TRY();
    pgstat_report_activity(STATE_IDLE, nullptr);
    return ok;
}

void finish_job(const ClaimedJob &job, const char *tables_json) {
    Oid types[2] = {INT8OID, TEXTOID};
    Datum values[2] = {Int64GetDatum(job.id), CStringGetTextDatum(tables_json)};
    execute("UPDATE convoy_backup.jobs SET status = 'completed', completed_at = pg_catalog.now(),"
            " error = NULL, tables = $2::jsonb WHERE id = $1",
            2, types, values, false);
}

void fail_job(const ClaimedJob &job, const char *error) {
    bool give_up = job.attempts >= setting_job_max_attempts;
    // Exponential backoff: 10 s, 20 s, 40 s ... at most an hour.
    int64 delay = Min(int64(10) << Min(job.attempts - 1, 20), max_retry_delay_secs);
    Oid types[4] = {INT8OID, TEXTOID, BOOLOID, INT8OID};
    Datum values[4] = {Int64GetDatum(job.id), CStringGetTextDatum(error), BoolGetDatum(give_up),
                       Int64GetDatum(delay)};
    execute("UPDATE convoy_backup.jobs SET"
            " status = CASE WHEN $3 THEN 'failed' ELSE 'pending' END, error = $2,"
            " not_before = pg_catalog.now() + pg_catalog.make_interval(secs => $4)"
            " WHERE id = $1",
            4, types, values, false);
    // convoy_backup.job_max_attempts may have been lowered below the attempts made.
    if (give_up)
        ereport(WARNING, (errmsg("convoy_backup export job %lld failed after %d attempts: %s",
                                 static_cast<long long>(job.id), job.attempts, error),
                          errhint("The job stays failed. Once the cause is fixed, export the "
                                  "window with convoy_backup_trigger(), or set the job's status "
                                  "back to 'pending'.")));
    else
        ereport(WARNING, (errmsg("convoy_backup export job %lld failed (attempt %d of %d): %s",
                             static_cast<long long>(job.id), job.attempts,
                             setting_job_max_attempts, error),
                          errhint("It is retried in %lld seconds.", static_cast<long long>(delay))));
}

void start_worker(const char *activity, DatabaseAsker asker) {
    pqsignal(SIGHUP, SignalHandlerForConfigReload);
    pqsignal(SIGTERM, die);
    BackgroundWorkerUnblockSignals();
    // In cdc mode the cdc worker reports these in convoy_backup_status().
    bool reports_status =
        asker == DatabaseAsker::export_scheduler && backup_mode() != BackupMode::cdc;
    wait_while_settings_rejected(activity, reports_status);
    wait_while_in_recovery(activity,
                           "Export jobs run on the primary. Once this server is promoted, the "
                           "worker goes on with the jobs of convoy_backup.jobs, which the "
                           "standby has replicated.",
                           reports_status);
    wait_for_database(asker, activity);
    BackgroundWorkerInitializeConnection(setting_database, nullptr, 0);
    pgstat_report_appname(activity);
}

} // namespace

void register_export_workers() {
    register_convoy_worker("convoy_backup export scheduler", "convoy_backup_export_scheduler_main");
    register_convoy_worker("convoy_backup export runner", "convoy_backup_export_runner_main");
}

} // namespace convoy::pg

extern "C" {

PGDLLEXPORT void convoy_backup_export_scheduler_main(Datum main_arg);
PGDLLEXPORT void convoy_backup_export_runner_main(Datum main_arg);

void convoy_backup_export_scheduler_main(Datum main_arg) {
    using namespace convoy::pg;
    start_worker("convoy_backup export scheduler", DatabaseAsker::export_scheduler);
    bool slot_warned = false;
    for (;;) {
        if (backup_mode() == BackupMode::exporting)
            warn_about_leftover_slot(&slot_warned);
        in_transaction("scheduling export windows", [] {
            if (!extension_installed())
                return;
            heartbeat_running_job();
            if (backup_mode() == BackupMode::exporting)
                enqueue_due_windows();
            remove_old_jobs();
            publish_progress();
        });
        wait_or_exit(scheduler_tick_ms);
    }
}

void convoy_backup_export_runner_main(Datum main_arg) {
    using namespace convoy::pg;
    start_worker("convoy_backup export runner", DatabaseAsker::export_runner);
    before_shmem_exit(runner_exit, (Datum) 0);
    MemoryContext job_context =
        AllocSetContextCreate(TopMemoryContext, "convoy_backup export job", ALLOCSET_DEFAULT_SIZES);
    for (;;) {
        ClaimedJob job;
        bool claimed = false;
        in_transaction("claiming export job", [&] {
            claimed = extension_installed() && claim_job(&job);
        });
        if (!claimed) {
            wait_or_exit(runner_idle_ms);
            continue;
        }
        publish_running_job(job.id);
        MemoryContext old = MemoryContextSwitchTo(job_context);
        wait_until_settled(job);
        StringInfoData tables_json;
        initStringInfo(&tables_json);
        char *error = nullptr;
        bool ok = export_job(job, &tables_json, &error);
        in_transaction("recording export job", [&] {
            if (ok)
                finish_job(job, tables_json.data);
            else
                fail_job(job, error);
        });
        MemoryContextSwitchTo(old);
        MemoryContextReset(job_context);
        publish_running_job(0);
        CHECK_FOR_INTERRUPTS();
    }
}

}
