// Library entry: settings, shared memory and workers.
//
// Loaded through shared_preload_libraries, the library reserves its shared
// memory and registers the cdc worker. Loaded any other way (LOAD, or as an
// output plugin by a session), it only defines its settings: the SQL functions
// then say what is missing, and CREATE EXTENSION refuses with a hint.
extern "C" {
#include "postgres.h"
#include "access/xlog.h"
#include "fmgr.h"
#include "miscadmin.h"
}

#include "pg/cdc/worker.hpp"
#include "pg/export/workers.hpp"
#include "pg/common/settings.hpp"
#include "pg/common/shared_state.hpp"

extern "C" {

PG_MODULE_MAGIC;

PGDLLEXPORT void _PG_init(void);

void _PG_init(void) {
    using namespace convoy::pg;
    define_settings();
    if (!process_shared_preload_libraries_in_progress)
        return;

    request_shared_state();
    if (backup_mode() == BackupMode::off)
        return;
    // Manual backups run in every mode; the scheduler only schedules in export.
    register_export_workers();
    if (backup_mode() != BackupMode::cdc)
        return;
    // A refused convoy_backup.mode leaves cdc in force: the worker says so instead.
    const RejectedSetting *rejected = rejected_setting();
    bool mode_rejected = rejected != nullptr && rejected->restart_only;
    if (wal_level < WAL_LEVEL_LOGICAL && !mode_rejected)
        ereport(WARNING,
                (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                 errmsg("convoy_backup.mode is \"cdc\" but wal_level is not \"logical\""),
                 errdetail("No rows are backed up until this is fixed."),
                 errhint("Set wal_level = logical in postgresql.conf and restart the server, or "
                         "set convoy_backup.mode = 'export', which needs no logical decoding, "
                         "and restart the server.")));
    register_cdc_worker();
}

}
