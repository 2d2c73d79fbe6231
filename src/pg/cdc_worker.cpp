// The cdc worker: owns the logical replication slot, decodes WAL in-process
// through this library's output plugin, and flushes buffered rows every
// convoy_backup.interval (and on shutdown), confirming the slot only after the
// objects are durable (see cdc_batches.hpp).
//
// Errors: configuration that cannot work until the server is reconfigured
// (wal_level, a slot of another database or plugin) is logged and the worker
// exits without restart; output_plugin_libraries is waited for (it can change on
// reload); anything else ends the worker with an ERROR and the postmaster
// restarts it after bgw_restart_time, decoding again from the confirmed position.
extern "C" {
#include "postgres.h"
#include "access/xact.h"
#include "access/xlog.h"
#include "access/xlogreader.h"
#include "access/xlogutils.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/pmsignal.h"
#include "replication/decode.h"
#include "replication/logical.h"
#include "replication/slot.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"
#include "utils/varlena.h"
}

#include <csignal>

#include "pg/cdc_batches.hpp"
#include "pg/cdc_writer.hpp"
#include "pg/lsn_format.hpp"
#include "pg/cdc_worker.hpp"
#include "pg/database_encoding.hpp"
#include "pg/relation_cache.hpp"
#include "pg/settings.hpp"
#include "pg/shared_state.hpp"
#include "pg/worker_wait.hpp"

namespace convoy::pg {

namespace {

constexpr const char *plugin_name = "convoy_backup";
constexpr int idle_confirm_interval_ms = 10 * 1000;
constexpr int max_sleep_ms = 1000;
constexpr int records_between_clock_checks = 1024;
// Often enough that a batch's chunks return to the pool soon after it is durable.
constexpr int records_between_writer_checks = 64;

void handle_sigterm(SIGNAL_ARGS) {
    int saved_errno = errno;
    cdc_shutdown_requested = true;
    SetLatch(MyLatch);
    errno = saved_errno;
}

void process_reload() {
    ConfigReloadPending = false;
    ProcessConfigFile(PGC_SIGHUP);
}

// A problem only reconfiguration and a restart can fix: report it where the
// operator looks (log and status) and stop without being restarted.
[[noreturn]] void stop_for_configuration(const char *message, const char *hint) {
    record_error(-1, message);
    ereport(LOG, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                  errmsg("convoy_backup cdc worker cannot start: %s", message),
                  errhint("%s", hint)));
    proc_exit(0);
}

bool plugin_library_allowed() {
    // Absent before PostgreSQL 15.19 (and in other branches): no list to be on.
    const char *allowed = GetConfigOption("output_plugin_libraries", true, false);
    if (allowed == nullptr)
        return true;
    char *copy = pstrdup(allowed);
    List *names = NIL;
    bool listed = false;
    if (SplitIdentifierString(copy, ',', &names)) {
        ListCell *cell;
        foreach (cell, names)
            if (strcmp(static_cast<const char *>(lfirst(cell)), plugin_name) == 0)
                listed = true;
    }
    list_free(names);
    pfree(copy);
    return listed;
}

// Waits, logging once, until a reload lists the plugin in output_plugin_libraries.
void wait_for_plugin_library() {
    bool reported = false;
    while (!plugin_library_allowed()) {
        if (!reported) {
            const char *message = "\"convoy_backup\" is not listed in output_plugin_libraries";
            record_error(-1, message);
            ereport(LOG, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                          errmsg("convoy_backup cdc worker cannot decode: %s", message),
                          errhint("Add convoy_backup to output_plugin_libraries in "
                                  "postgresql.conf and reload the configuration.")));
            reported = true;
        }
        wait_for_latch_or_fd(-1, 5000);
        CHECK_FOR_INTERRUPTS();
        if (cdc_shutdown_requested)
            proc_exit(1);
        if (ConfigReloadPending)
            process_reload();
    }
    if (reported) {
        clear_error(-1);
        ereport(LOG, (errmsg("convoy_backup cdc worker may now decode with output plugin \"%s\"",
                             plugin_name)));
    }
}

XLogReaderRoutine wal_reader_routine() {
    // XL_ROUTINE() is a C compound literal, which C++ does not accept.
    XLogReaderRoutine routine;
    memset(&routine, 0, sizeof(routine));
    routine.page_read = read_local_xlog_page;
    routine.segment_open = wal_segment_open;
    routine.segment_close = wal_segment_close;
    return routine;
}

void create_slot_if_missing() {
    if (SearchNamedReplicationSlot(setting_slot_name, true) != nullptr)
        return;
    CheckLogicalDecodingRequirements();
    // Ephemeral until its start point is found: a failure leaves no slot behind.
    ReplicationSlotCreate(setting_slot_name, true, RS_EPHEMERAL, false);
    XLogReaderRoutine routine = wal_reader_routine();
    LogicalDecodingContext *ctx = CreateInitDecodingContext(
        plugin_name, NIL, false, InvalidXLogRecPtr, &routine, nullptr, nullptr, nullptr);
    DecodingContextFindStartpoint(ctx);
    XLogRecPtr start = MyReplicationSlot->data.confirmed_flush;
    FreeDecodingContext(ctx);
    ReplicationSlotPersist();
    ReplicationSlotRelease();
    ereport(LOG, (errmsg("convoy_backup created logical replication slot \"%s\"", setting_slot_name),
                  errdetail("Rows inserted from %X/%X on are backed up.", CONVOY_LSN_ARGS(start))));
}

void acquire_slot() {
    ReplicationSlotAcquire(setting_slot_name, true);
    ReplicationSlot *slot = MyReplicationSlot;
    char message[256];
    if (!SlotIsLogical(slot)) {
        snprintf(message, sizeof(message), "replication slot \"%s\" is not a logical slot",
                 setting_slot_name);
        stop_for_configuration(message, "Set convoy_backup.slot_name to an unused name.");
    }
    if (slot->data.database != MyDatabaseId) {
        snprintf(message, sizeof(message), "replication slot \"%s\" belongs to another database",
                 setting_slot_name);
        stop_for_configuration(message, "Set convoy_backup.slot_name to an unused name, or "
                                         "convoy_backup.database to the slot's database.");
    }
    if (strcmp(NameStr(slot->data.plugin), plugin_name) != 0) {
        snprintf(message, sizeof(message), "replication slot \"%s\" uses output plugin \"%s\"",
                 setting_slot_name, NameStr(slot->data.plugin));
        stop_for_configuration(message, "Set convoy_backup.slot_name to an unused name.");
    }
    if (slot->data.restart_lsn == InvalidXLogRecPtr) {
        snprintf(message, sizeof(message), "replication slot \"%s\" has been invalidated",
                 setting_slot_name);
        stop_for_configuration(message,
                               "The server removed WAL the slot still needed (see "
                               "max_slot_wal_keep_size); rows from that WAL are not in the "
                               "backup. Drop the slot and restart the server to start again.");
    }
}

bool same_tables(const ConfiguredTables &a, const ConfiguredTables &b) {
    if (a.count != b.count)
        return false;
    for (int i = 0; i < a.count; i++)
        if (strcmp(a.tables[i].display, b.tables[i].display) != 0)
            return false;
    return true;
}

void publish_worker(pid_t pid) {
    SharedState *state = shared_state();
    LWLockAcquire(state->lock, LW_EXCLUSIVE);
    state->worker_pid = pid;
    LWLockRelease(state->lock);
}

void worker_exit(int code, Datum arg) { publish_worker(0); }

void decode_until_shutdown(LogicalDecodingContext *ctx) {
    XLogReaderState *reader = ctx->reader;
    uint64 tables_generation = configured_tables_generation();
    TimestampTz next_flush =
        TimestampTzPlusMilliseconds(GetCurrentTimestamp(), int64(setting_interval_secs) * 1000);
    TimestampTz next_idle_confirm = 0;

    while (!cdc_shutdown_requested) {
        CHECK_FOR_INTERRUPTS();
        if (ConfigReloadPending) {
            process_reload();
            next_flush = TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
                                                     int64(setting_interval_secs) * 1000);
        }
        // Checked on every pass: a wait for storage may have processed the reload.
        if (configured_tables_generation() != tables_generation) {
            tables_generation = configured_tables_generation();
            if (!same_tables(configured_tables(), cdc_tables())) {
                // Buffers are kept per table index: write them out under the
                // old list before the new one takes over.
                cdc_flush(reader->EndRecPtr);
                cdc_start(configured_tables());
                relation_cache_reset();
                ereport(LOG, (errmsg("convoy_backup now backs up %d tables", cdc_tables().count)));
            }
        }

        XLogRecPtr end_of_wal = GetFlushRecPtr(nullptr);
        TimestampTz now = GetCurrentTimestamp();
        // A due flush waits for the batch being written; decoding goes on meanwhile.
        bool flush_due = now >= next_flush;
        int records = 0;
        while (reader->EndRecPtr < end_of_wal && !(flush_due && !cdc_writer_busy()) &&
               !cdc_shutdown_requested && !ConfigReloadPending) {
            char *error = nullptr;
            XLogRecord *record = XLogReadRecord(reader, &error);
            if (error)
                ereport(ERROR, (errcode_for_file_access(),
                                errmsg("could not read WAL at %X/%X: %s",
                                       CONVOY_LSN_ARGS(reader->EndRecPtr), error)));
            if (record != nullptr)
                LogicalDecodingProcessRecord(ctx, reader);
            CHECK_FOR_INTERRUPTS();
            ++records;
            if (records % records_between_writer_checks == 0)
                cdc_writer_poll();
            if (records % records_between_clock_checks == 0) {
                flush_due = GetCurrentTimestamp() >= next_flush;
                // WaitLatch notices a dead postmaster; a long backlog must too.
                if (!PostmasterIsAlive())
                    proc_exit(1);
            }
        }
        if (cdc_shutdown_requested)
            break;

        cdc_writer_poll();
        now = GetCurrentTimestamp();
        if (now >= next_flush) {
            if (!cdc_writer_busy()) {
                cdc_start_flush(reader->EndRecPtr);
                next_flush = TimestampTzPlusMilliseconds(now, int64(setting_interval_secs) * 1000);
            }
        } else if (now >= next_idle_confirm && cdc_pool_empty()) {
            // Nothing buffered: all decoded so far is durable, so the slot may
            // move on (and release WAL) without waiting for the interval.
            cdc_confirm(reader->EndRecPtr);
            next_idle_confirm = TimestampTzPlusMilliseconds(now, idle_confirm_interval_ms);
        }

        if (reader->EndRecPtr >= end_of_wal) {
            long until_flush = TimestampDifferenceMilliseconds(now, next_flush);
            // Until new WAL may be there or the batch being written completes.
            wait_for_latch_or_fd(cdc_writer_wake_fd(), Min(Max(until_flush, 1L), long(max_sleep_ms)));
        }
    }

    // A clean stop writes out what is buffered, so nothing waits for a restart.
    start_final_flush_clock();
    cdc_final_flush = true;
    cdc_flush(reader->EndRecPtr);
    ereport(LOG, (errmsg("convoy_backup cdc worker stopped after writing buffered rows"),
                  errdetail("Replication slot \"%s\" is confirmed up to %X/%X.", setting_slot_name,
                            CONVOY_LSN_ARGS(reader->EndRecPtr))));
}

} // namespace

void register_cdc_worker() {
    BackgroundWorker worker;
    memset(&worker, 0, sizeof(worker));
    worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
    worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
    worker.bgw_restart_time = 10;
    strlcpy(worker.bgw_library_name, "convoy_backup", BGW_MAXLEN);
    strlcpy(worker.bgw_function_name, "convoy_backup_cdc_main", BGW_MAXLEN);
    strlcpy(worker.bgw_name, "convoy_backup cdc worker", BGW_MAXLEN);
    strlcpy(worker.bgw_type, "convoy_backup cdc worker", BGW_MAXLEN);
    RegisterBackgroundWorker(&worker);
}

} // namespace convoy::pg

extern "C" PGDLLEXPORT void convoy_backup_cdc_main(Datum main_arg);

void convoy_backup_cdc_main(Datum main_arg) {
    using namespace convoy::pg;
    pqsignal(SIGHUP, SignalHandlerForConfigReload);
    pqsignal(SIGTERM, handle_sigterm);
    BackgroundWorkerUnblockSignals();

    before_shmem_exit(worker_exit, (Datum) 0);
    publish_worker(MyProcPid);

    if (wal_level < WAL_LEVEL_LOGICAL)
        stop_for_configuration("wal_level is not \"logical\"",
                               "Set wal_level = logical in postgresql.conf and restart the server, "
                               "or set convoy_backup.mode = 'off'.");

    BackgroundWorkerInitializeConnection(setting_database, nullptr, 0);
    if (const char *problem = unsupported_database_encoding())
        stop_for_configuration(problem, unsupported_encoding_hint);
    pgstat_report_activity(STATE_RUNNING, "decoding WAL");

    wait_for_plugin_library();
    // Our decoding memory lives for the whole process; errors end the process.
    MemoryContext worker_context =
        AllocSetContextCreate(TopMemoryContext, "convoy_backup cdc worker", ALLOCSET_DEFAULT_SIZES);
    MemoryContextSwitchTo(worker_context);

    cdc_start(configured_tables());
    create_slot_if_missing();
    acquire_slot();

    XLogReaderRoutine routine = wal_reader_routine();
    LogicalDecodingContext *ctx =
        CreateDecodingContext(InvalidXLogRecPtr, NIL, false, &routine, nullptr, nullptr, nullptr);
    XLogBeginRead(ctx->reader, MyReplicationSlot->data.restart_lsn);
    cdc_confirm(MyReplicationSlot->data.confirmed_flush);
    ereport(LOG, (errmsg("convoy_backup cdc worker started decoding replication slot \"%s\"",
                         setting_slot_name),
                  errdetail("Decoding from %X/%X; rows committed after %X/%X are backed up.",
                            CONVOY_LSN_ARGS(MyReplicationSlot->data.restart_lsn),
                            CONVOY_LSN_ARGS(MyReplicationSlot->data.confirmed_flush))));

    decode_until_shutdown(ctx);
    FreeDecodingContext(ctx);
    ReplicationSlotRelease();
    // Exit code 1 lets the postmaster restart the worker after a terminate
    // request; during server shutdown nothing is restarted anyway.
    proc_exit(1);
}
