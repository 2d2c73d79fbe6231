// The cdc worker: owns the logical replication slot, decodes WAL in-process
// through this library's output plugin, and flushes buffered rows every
// convoy_backup.interval (and on shutdown), confirming the slot only after the
// objects are durable (see cdc/batches.hpp).
//
// On a standby it waits for promotion, then goes on from the slot the standby
// synchronized (failover slots, see cdc/failover.hpp) or creates one.
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
#include "commands/dbcommands.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/pmsignal.h"
#include "replication/decode.h"
#include "replication/logical.h"
#include "replication/slot.h"
#include "storage/condition_variable.h"
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

#include "pg/cdc/batches.hpp"
#include "pg/cdc/failover.hpp"
#include "pg/cdc/table_state.hpp"
#include "pg/cdc/wal_routine.hpp"
#include "pg/cdc/writer.hpp"
#include "pg/common/lsn_format.hpp"
#include "pg/common/pg_compat.hpp"
#include "pg/cdc/worker.hpp"
#include "pg/encode/database_encoding.hpp"
#include "pg/cdc/relation_cache.hpp"
#include "pg/common/background_worker.hpp"
#include "pg/common/settings.hpp"
#include "pg/common/slot_position.hpp"
#include "pg/common/shared_state.hpp"
#include "pg/common/worker_database.hpp"
#include "pg/common/worker_wait.hpp"

namespace convoy::pg {

namespace {

constexpr const char *plugin_name = "convoy_backup";
constexpr int idle_confirm_interval_ms = 10 * 1000;
constexpr int max_sleep_ms = 1000;
constexpr int standby_poll_ms = 10;
constexpr int records_between_clock_checks = 1024;
// Often enough that a batch's chunks return to the pool soon after it is durable.
constexpr int records_between_writer_checks = 64;

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

// See wait_until_resolved() in common/worker_wait.hpp; resolved() is a callable.
template <class Resolved>
void wait_until_resolved(const char *what, const char *message, const char *hint,
                         const char *resumed, Resolved resolved) {
    convoy::pg::wait_until_resolved(
        "convoy_backup cdc worker", what, message, hint, resumed, true,
        +[](void *arg) { return (*static_cast<Resolved *>(arg))(); }, &resolved);
}

// Waits until a reload lists the plugin in output_plugin_libraries.
void wait_for_plugin_library() {
    const char *allowed = GetConfigOption("output_plugin_libraries", true, false);
    char hint[1024];
    snprintf(hint, sizeof(hint),
             "output_plugin_libraries is \"%s\". Add convoy_backup to it in postgresql.conf and "
             "reload the configuration.",
             allowed ? allowed : "");
    wait_until_resolved("cannot decode", "\"convoy_backup\" is not listed in output_plugin_libraries",
                        hint, "may now decode with output plugin \"convoy_backup\"",
                        plugin_library_allowed);
}

// convoy_backup.tables as the worker keeps it: each table with its time column
// spelled out (its own, or convoy_backup.time_column), so that a change of
// either applies from a WAL position, as a change of the list does, and the
// manifests of a batch all name the column they measured.
const ConfiguredTables &configured_tables_with_time_columns() {
    static ConfiguredTables resolved;
    memcpy(&resolved, &configured_tables(), sizeof(ConfiguredTables));
    for (int i = 0; i < resolved.count; i++)
        if (resolved.tables[i].time_column[0] == '\0')
            strlcpy(resolved.tables[i].time_column, setting_time_column,
                    sizeof(resolved.tables[i].time_column));
    return resolved;
}

// Waits until the pool has room for *tables, following reloads of
// convoy_backup.tables into *tables (the slot holds WAL meanwhile).
void wait_for_pool_room(ConfiguredTables *tables, uint64 *generation) {
    if (cdc_pool_fits(*tables))
        return;
    char message[256];
    char hint[512];
    snprintf(message, sizeof(message), "convoy_backup.buffer_size is too small for %d tables",
             tables->count);
    snprintf(hint, sizeof(hint),
             "Set convoy_backup.buffer_size to at least %zu kB and restart the server, or reload "
             "with fewer tables in convoy_backup.tables. Replication slot \"%s\" does not "
             "advance meanwhile.",
             cdc_pool_needed_kb(*tables), setting_slot_name);
    wait_until_resolved("cannot go on", message, hint, "has room for its tables", [&] {
        if (configured_tables_generation() != *generation) {
            *generation = configured_tables_generation();
            memcpy(tables, &configured_tables_with_time_columns(), sizeof(ConfiguredTables));
        }
        return cdc_pool_fits(*tables);
    });
}

// A slot created after a promotion starts where this server is now: what the
// former primary had decoded but not yet written, and what was committed here
// before that point, is not backed up. Said as a WARNING, with why and how to
// fill the gap.
void warn_new_slot_after_promotion(XLogRecPtr start) {
    char why[128];
    if (server_has_failover_slots)
        snprintf(why, sizeof(why), "no replication slot was synchronized from it.");
    else
        snprintf(why, sizeof(why),
                 "PostgreSQL %s does not synchronize replication slots to standbys.",
                 server_major_version);
    ereport(WARNING,
            (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
             errmsg("convoy_backup created a new replication slot \"%s\" after this server was "
                    "promoted",
                    setting_slot_name),
             errdetail("The backup goes on from %X/%X. Rows committed before that position "
                       "that the former primary had not written to storage when it stopped are "
                       "not in the backup: %s",
                       CONVOY_LSN_ARGS(start), why),
             errhint("The newest objects the former primary wrote show where its backup ended. "
                     "Export the rows committed since then with "
                     "convoy_backup.convoy_backup_export(); see \"Failover\" in "
                     "docs/operations.md.%s",
                     server_has_failover_slots
                         ? " Use convoy_backup.failover and sync_replication_slots so that the "
                           "next failover loses nothing."
                         : "")));
}

void create_slot_if_missing(bool promoted) {
    if (SearchNamedReplicationSlot(setting_slot_name, true) != nullptr)
        return;
    CheckLogicalDecodingRequirements();
    // Ephemeral until its start point is found: a failure leaves no slot behind.
    create_replication_slot(setting_slot_name, true, RS_EPHEMERAL, false, setting_failover);
    XLogReaderRoutine routine = local_wal_routine();
    LogicalDecodingContext *ctx = CreateInitDecodingContext(
        plugin_name, NIL, false, InvalidXLogRecPtr, &routine, nullptr, nullptr, nullptr);
    DecodingContextFindStartpoint(ctx);
    XLogRecPtr start = MyReplicationSlot->data.confirmed_flush;
    FreeDecodingContext(ctx);
    ReplicationSlotPersist();
    ReplicationSlotRelease();
    ereport(LOG, (errmsg("convoy_backup created logical replication slot \"%s\"", setting_slot_name),
                  errdetail("Rows inserted from %X/%X on are backed up.", CONVOY_LSN_ARGS(start))));
    if (promoted)
        warn_new_slot_after_promotion(start);
}

void acquire_slot() {
    acquire_replication_slot(setting_slot_name, true);
    ReplicationSlot *slot = MyReplicationSlot;
    char message[256];
    if (!SlotIsLogical(slot)) {
        snprintf(message, sizeof(message), "replication slot \"%s\" is not a logical slot",
                 setting_slot_name);
        stop_for_configuration(message, "Set convoy_backup.slot_name to an unused name.");
    }
    if (slot->data.database != MyDatabaseId) {
        // The catalog is read in a transaction; the name is copied out before its end.
        StartTransactionCommand();
        const char *owner = get_database_name(slot->data.database);
        if (owner != nullptr)
            snprintf(message, sizeof(message),
                     "replication slot \"%s\" belongs to another database, \"%s\"",
                     setting_slot_name, owner);
        else
            snprintf(message, sizeof(message),
                     "replication slot \"%s\" belongs to another database (OID %u)",
                     setting_slot_name, slot->data.database);
        CommitTransactionCommand();
        stop_for_configuration(message, "Set convoy_backup.slot_name to an unused name, or "
                                         "convoy_backup.database to the slot's database.");
    }
    if (strcmp(NameStr(slot->data.plugin), plugin_name) != 0) {
        snprintf(message, sizeof(message), "replication slot \"%s\" uses output plugin \"%s\"",
                 setting_slot_name, NameStr(slot->data.plugin));
        stop_for_configuration(message, "Set convoy_backup.slot_name to an unused name.");
    }
    if (slot_is_invalidated(slot)) {
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
        if (strcmp(a.tables[i].display, b.tables[i].display) != 0 ||
            strcmp(a.tables[i].time_column, b.tables[i].time_column) != 0)
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

// A new convoy_backup.tables applies from the WAL position the worker read it
// at: transactions whose commit record starts before it are backed up under
// the list they were committed under, even if they are decoded after the reload
// or after a crash (the lists are kept on disk, see cdc/table_state.hpp).
struct TableSwitch {
    uint64 generation;     // of the setting's value last looked at
    TableListState *state; // list in force, and the pending switch if any
};

// Compares the setting with the list the worker is heading for, and schedules
// (or cancels) a switch; called at start and after each change of the setting.
void adopt_configured_tables(TableSwitch &sw) {
    TableListState &state = *sw.state;
    sw.generation = configured_tables_generation();
    const ConfiguredTables &configured = configured_tables_with_time_columns();
    bool pending = state.switch_at != InvalidXLogRecPtr;
    if (same_tables(configured, pending ? state.pending : state.in_force)) {
        return;
    }
    if (same_tables(configured, state.in_force)) {
        state.switch_at = InvalidXLogRecPtr; // changed back before it applied
        save_table_list_state(state);
        ereport(LOG, (errmsg_plural("convoy_backup keeps backing up its %d table",
                                    "convoy_backup keeps backing up its %d tables",
                                    state.in_force.count, state.in_force.count)));
        return;
    }
    memcpy(&state.pending, &configured, sizeof(ConfiguredTables));
    // A second change before the first one applied takes its place (and position).
    if (!pending)
        state.switch_at = GetXLogInsertRecPtr();
    save_table_list_state(state);
    ereport(LOG, (errmsg_plural("convoy_backup backs up %d table from %X/%X on",
                                "convoy_backup backs up %d tables from %X/%X on",
                                state.pending.count, state.pending.count,
                                CONVOY_LSN_ARGS(state.switch_at)),
                  errdetail_plural("Rows committed before that position are backed up under the "
                                   "previous list of %d table.",
                                   "Rows committed before that position are backed up under the "
                                   "previous list of %d tables.",
                                   state.in_force.count, state.in_force.count)));
}

// Writes out the buffers under the old list (they are kept per table index),
// confirms the slot up to `upto`, and switches to the pending list.
void apply_table_switch(TableSwitch &sw, XLogRecPtr upto) {
    TableListState &state = *sw.state;
    cdc_flush(upto);
    wait_for_pool_room(&state.pending, &sw.generation);
    cdc_start(state.pending);
    relation_cache_reset();
    XLogRecPtr applied_at = state.switch_at;
    memcpy(&state.in_force, &state.pending, sizeof(ConfiguredTables));
    state.switch_at = InvalidXLogRecPtr;
    save_table_list_state(state);
    ereport(LOG, (errmsg_plural("convoy_backup now backs up %d table",
                                "convoy_backup now backs up %d tables", cdc_tables().count,
                                cdc_tables().count),
                  errdetail("The list applies to transactions committed from %X/%X on.",
                            CONVOY_LSN_ARGS(applied_at))));
}

// Between records: applies a pending switch once every record before its
// position is decoded, and notices a new value of the setting.
void follow_table_setting(TableSwitch &sw, XLogReaderState *reader) {
    if (sw.state->switch_at != InvalidXLogRecPtr && reader->EndRecPtr >= sw.state->switch_at)
        apply_table_switch(sw, reader->EndRecPtr);
    if (configured_tables_generation() != sw.generation)
        adopt_configured_tables(sw);
}

void decode_until_shutdown(LogicalDecodingContext *ctx, TableSwitch &table_switch) {
    XLogReaderState *reader = ctx->reader;
    // Flushes keep their schedule whatever reloads happen in between; a new
    // interval counts from the last flush.
    TimestampTz last_flush_start = GetCurrentTimestamp();
    TimestampTz next_idle_confirm = 0;

    while (!ShutdownRequestPending) {
        CHECK_FOR_INTERRUPTS();
        if (ConfigReloadPending)
            reload_configuration();
        // Checked on every pass: a wait for storage may have processed the reload.
        follow_table_setting(table_switch, reader);
        follow_failover_setting();
        TimestampTz next_flush =
            TimestampTzPlusMilliseconds(last_flush_start, int64(setting_interval_secs) * 1000);

        XLogRecPtr end_of_wal = GetFlushRecPtr(nullptr);
        TimestampTz now = GetCurrentTimestamp();
        // A due flush waits for the batch being written; decoding goes on meanwhile.
        bool flush_due = now >= next_flush;
        int records = 0;
        while (reader->EndRecPtr < end_of_wal && !(flush_due && !cdc_writer_busy()) &&
               !ShutdownRequestPending && !ConfigReloadPending) {
            char *error = nullptr;
            XLogRecord *record = XLogReadRecord(reader, &error);
            if (error)
                ereport(ERROR, (errcode_for_file_access(),
                                errmsg("could not read WAL at %X/%X: %s",
                                       CONVOY_LSN_ARGS(reader->EndRecPtr), error)));
            // The first record at or past a pending switch is decoded under the new list.
            if (record != nullptr && table_switch.state->switch_at != InvalidXLogRecPtr &&
                reader->ReadRecPtr >= table_switch.state->switch_at)
                apply_table_switch(table_switch, reader->ReadRecPtr);
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
        if (ShutdownRequestPending)
            break;

        cdc_writer_poll();
        now = GetCurrentTimestamp();
        if (now >= next_flush) {
            if (!cdc_writer_busy()) {
                cdc_start_flush(reader->EndRecPtr);
                last_flush_start = now;
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
            // Until new WAL may be there, the batch being written completes, or
            // the standbys a write waits for may have received its WAL.
            long sleep_ms = cdc_writer_held() ? standby_poll_ms : max_sleep_ms;
            wait_for_latch_or_fd(cdc_writer_wake_fd(), Min(Max(until_flush, 1L), sleep_ms));
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

// After the ERROR of a row too large to encode (it stays so however often it is
// decoded again): what came before it is written and confirmed, the slot is
// released, and the worker waits until an operator moves the slot past that
// transaction (or drops it), then exits to be started afresh.
[[noreturn]] void wait_past_unencodable_row(MemoryContext worker_context) {
    MemoryContextSwitchTo(worker_context);
    EmitErrorReport();
    FlushErrorState();
    // As a walsender cleans up after an error in decoding.
    LWLockReleaseAll();
    ConditionVariableCancelSleep();
    pgstat_report_wait_end();
    AbortOutOfAnyTransaction();
    MemoryContextSwitchTo(worker_context);

    const UnencodableRow row = cdc_unencodable_row();
    cdc_discard_staged();
    cdc_flush(row.commit_lsn);
    ReplicationSlotRelease();

    char message[512];
    char hint[1024];
    snprintf(message, sizeof(message),
             "a row of table %s in the transaction committed at %X/%X is too large to back up",
             cdc_tables().tables[row.table].display, CONVOY_LSN_ARGS(row.commit_lsn));
    snprintf(hint, sizeof(hint),
             "Its JSON form exceeds the 1 GB limit of a PostgreSQL string. Replication slot \"%s\" "
             "stays before that transaction and holds WAL. To go on without the transaction's "
             "rows, move the slot past it: SELECT pg_replication_slot_advance('%s', '%X/%X');",
             setting_slot_name, setting_slot_name, CONVOY_LSN_ARGS(row.end_lsn));
    wait_until_resolved("cannot go on", message, hint, "goes on after the slot was moved", [&] {
        XLogRecPtr confirmed = slot_confirmed_position();
        return confirmed == InvalidXLogRecPtr || confirmed >= row.end_lsn;
    });
    proc_exit(1);
}

} // namespace

void register_cdc_worker() {
    register_convoy_worker("convoy_backup cdc worker", "convoy_backup_cdc_main");
}

} // namespace convoy::pg

extern "C" PGDLLEXPORT void convoy_backup_cdc_main(Datum main_arg);

void convoy_backup_cdc_main(Datum main_arg) {
    using namespace convoy::pg;
    pqsignal(SIGHUP, SignalHandlerForConfigReload);
    pqsignal(SIGTERM, SignalHandlerForShutdownRequest);
    BackgroundWorkerUnblockSignals();

    before_shmem_exit(worker_exit, (Datum) 0);
    publish_worker(MyProcPid);

    wait_while_settings_rejected("convoy_backup cdc worker", true);
    if (wal_level < WAL_LEVEL_LOGICAL)
        stop_for_configuration("wal_level is not \"logical\"",
                               "Set wal_level = logical in postgresql.conf and restart the server, "
                               "or set convoy_backup.mode = 'export', which needs no logical "
                               "decoding, and restart the server.");

    char standby_hint[512];
    if (server_has_failover_slots)
        snprintf(standby_hint, sizeof(standby_hint),
                 "The backup runs on the primary. Once this server is promoted, this worker goes "
                 "on from the replication slot synchronized from the primary "
                 "(convoy_backup.failover there, sync_replication_slots here), or else creates a "
                 "new slot.");
    else
        snprintf(standby_hint, sizeof(standby_hint),
                 "The backup runs on the primary. Once this server is promoted, this worker "
                 "creates a new replication slot: PostgreSQL %s does not synchronize slots to "
                 "standbys, so the rows the primary had not backed up when it stopped are not "
                 "backed up (see \"Failover\" in docs/operations.md).",
                 server_major_version);
    bool promoted = wait_while_in_recovery("convoy_backup cdc worker", standby_hint, true);
    wait_for_database(DatabaseAsker::cdc_worker, "convoy_backup cdc worker");
    BackgroundWorkerInitializeConnection(setting_database, nullptr, 0);
    if (const char *problem = unsupported_database_encoding())
        stop_for_configuration(problem, unsupported_encoding_hint);
    pgstat_report_activity(STATE_RUNNING, "decoding WAL");

    wait_for_plugin_library();
    // Our decoding memory lives for the whole process; errors end the process.
    MemoryContext worker_context =
        AllocSetContextCreate(TopMemoryContext, "convoy_backup cdc worker", ALLOCSET_DEFAULT_SIZES);
    MemoryContextSwitchTo(worker_context);

    // The list in force when the last worker stopped (and any switch it had
    // not reached yet); the setting may have changed since: adopted below.
    TableSwitch table_switch{configured_tables_generation(),
                             static_cast<TableListState *>(palloc0(sizeof(TableListState)))};
    if (!load_table_list_state(table_switch.state)) {
        memcpy(&table_switch.state->in_force, &configured_tables_with_time_columns(),
               sizeof(ConfiguredTables));
        table_switch.state->switch_at = InvalidXLogRecPtr;
    }
    wait_for_pool_room(&table_switch.state->in_force, &table_switch.generation);
    cdc_start(table_switch.state->in_force);
    create_slot_if_missing(promoted);
    acquire_slot();
    // A failover slot: go on from where the backup got, as marked in WAL (after
    // a promotion the slot may lag behind it), then follow the setting.
    continue_from_last_mark();
    follow_failover_setting();
    save_table_list_state(*table_switch.state);
    adopt_configured_tables(table_switch);
    if (configured_tables().count == 0)
        ereport(LOG, (errmsg("convoy_backup.tables is empty: no table is backed up"),
                      errdetail("Replication slot \"%s\" still advances as WAL is decoded.",
                                setting_slot_name),
                      errhint("List the tables to back up in convoy_backup.tables and reload "
                              "the configuration.")));

    XLogReaderRoutine routine = local_wal_routine();
    LogicalDecodingContext *ctx =
        CreateDecodingContext(InvalidXLogRecPtr, NIL, false, &routine, nullptr, nullptr, nullptr);
    XLogBeginRead(ctx->reader, MyReplicationSlot->data.restart_lsn);
    cdc_confirm(MyReplicationSlot->data.confirmed_flush);
    ereport(LOG, (errmsg("convoy_backup cdc worker started decoding replication slot \"%s\"",
                         setting_slot_name),
                  errdetail("Decoding from %X/%X; rows committed after %X/%X are backed up.",
                            CONVOY_LSN_ARGS(MyReplicationSlot->data.restart_lsn),
                            CONVOY_LSN_ARGS(MyReplicationSlot->data.confirmed_flush))));

    PG_TRY();
    {
        decode_until_shutdown(ctx, table_switch);
    }
    PG_CATCH();
    {
        if (!cdc_unencodable_row().noted)
            PG_RE_THROW();
        wait_past_unencodable_row(worker_context);
    }
    PG_END_TRY();
    FreeDecodingContext(ctx);
    ReplicationSlotRelease();
    // Exit code 1 lets the postmaster restart the worker after a terminate
    // request; during server shutdown nothing is restarted anyway.
    proc_exit(1);
}
