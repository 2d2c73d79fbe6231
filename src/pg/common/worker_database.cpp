// The database probe (see worker_database.hpp).
extern "C" {
#include "postgres.h"
#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/pg_database.h"
#include "miscadmin.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
}

#include "pg/common/background_worker.hpp"
#include "pg/common/settings.hpp"
#include "pg/common/shared_state.hpp"
#include "pg/common/worker_database.hpp"
#include "pg/common/worker_wait.hpp"

namespace convoy::pg {

namespace {

enum ProbeAnswer { probe_unanswered = 0, probe_exists = 1, probe_missing = 2 };

constexpr long recheck_interval_ms = 10 * 1000;

void set_answer(int slot, int answer) {
    SharedState *state = shared_state();
    LWLockAcquire(state->lock, LW_EXCLUSIVE);
    state->database_probe[slot] = answer;
    LWLockRelease(state->lock);
}

int answer_of(int slot) {
    SharedState *state = shared_state();
    LWLockAcquire(state->lock, LW_SHARED);
    int answer = state->database_probe[slot];
    LWLockRelease(state->lock);
    return answer;
}

// Starts the probe and waits for it to end; probe_unanswered if it could not run.
int probe(int slot) {
    BackgroundWorker worker = convoy_background_worker(
        "convoy_backup database probe", "convoy_backup_database_probe_main", BGW_NEVER_RESTART);
    worker.bgw_main_arg = Int32GetDatum(slot);
    worker.bgw_notify_pid = MyProcPid;
    set_answer(slot, probe_unanswered);
    BackgroundWorkerHandle *handle;
    if (!RegisterDynamicBackgroundWorker(&worker, &handle))
        return probe_unanswered;
    if (WaitForBackgroundWorkerShutdown(handle) == BGWH_POSTMASTER_DIED)
        proc_exit(1);
    pfree(handle);
    return answer_of(slot);
}

// A plain scan of pg_database: without a database, the relcache cannot build
// index descriptors until a backend has written the shared init file (at the
// first connection after initdb), so get_database_oid()'s index scan may fail.
bool database_listed(const char *name) {
    Relation catalog = table_open(DatabaseRelationId, AccessShareLock);
    TableScanDesc scan = table_beginscan_catalog(catalog, 0, nullptr);
    bool found = false;
    HeapTuple tuple;
    while (!found && (tuple = heap_getnext(scan, ForwardScanDirection)) != nullptr)
        found = strcmp(NameStr(reinterpret_cast<Form_pg_database>(GETSTRUCT(tuple))->datname),
                       name) == 0;
    table_endscan(scan);
    table_close(catalog, AccessShareLock);
    return found;
}

// One worker speaks for all in convoy_backup_status(): the cdc worker in cdc
// mode, the export scheduler otherwise.
bool reports_status(DatabaseAsker asker) {
    return asker == (backup_mode() == BackupMode::cdc ? DatabaseAsker::cdc_worker
                                                      : DatabaseAsker::export_scheduler);
}

} // namespace

void wait_for_database(DatabaseAsker asker, const char *worker_name) {
    int slot = static_cast<int>(asker);
    if (probe(slot) != probe_missing)
        return;
    char message[256];
    snprintf(message, sizeof(message),
             "database \"%s\" does not exist (named by convoy_backup.database)", setting_database);
    if (reports_status(asker))
        record_error(-1, message);
    ereport(LOG, (errcode(ERRCODE_UNDEFINED_DATABASE),
                  errmsg("%s cannot start: %s", worker_name, message),
                  errhint("Create the database, or set convoy_backup.database to an existing "
                          "database and restart the server. The worker checks again every 10 "
                          "seconds.")));
    do {
        wait_for_latch_or_fd(-1, recheck_interval_ms);
        CHECK_FOR_INTERRUPTS();
        if (ShutdownRequestPending)
            proc_exit(1);
    } while (probe(slot) == probe_missing);
    if (reports_status(asker))
        clear_error(-1);
    ereport(LOG, (errmsg("%s found database \"%s\"", worker_name, setting_database)));
}

} // namespace convoy::pg

extern "C" {

PGDLLEXPORT void convoy_backup_database_probe_main(Datum main_arg);

void convoy_backup_database_probe_main(Datum main_arg) {
    using namespace convoy::pg;
    int slot = DatumGetInt32(main_arg);
    BackgroundWorkerUnblockSignals();
    // No database: only the shared catalogs, pg_database among them, are readable.
    BackgroundWorkerInitializeConnection(nullptr, nullptr, 0);
    StartTransactionCommand();
    bool exists = database_listed(setting_database);
    CommitTransactionCommand();
    set_answer(slot, exists ? probe_exists : probe_missing);
    proc_exit(0);
}

}
