// convoy_backup_export(start, end): the command-line path of export mode. It runs
// one window's export synchronously in the caller's session, with the same
// checks as a manual job, and returns one row per table.
extern "C" {
#include "postgres.h"
#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"
}

#include "pg/export/window.hpp"
#include "pg/common/settings.hpp"

extern "C" {

PG_FUNCTION_INFO_V1(convoy_backup_export);

Datum convoy_backup_export(PG_FUNCTION_ARGS) {
    using namespace convoy::pg;
    // The window must be read from a snapshot taken once it is settled, which a
    // transaction block's snapshot may predate; and the objects written are not
    // taken back by a rollback. (IsTransactionBlock() is also true in a
    // subtransaction, whose parent cannot be told from a block from here.)
    if (IsTransactionBlock())
        ereport(ERROR,
                (errcode(ERRCODE_ACTIVE_SQL_TRANSACTION),
                 errmsg("%s cannot run inside a transaction block", "convoy_backup_export()"),
                 errdetail("It reads the window from a snapshot of its own, taken once no "
                           "transaction that could still commit rows into the window is open."),
                 errhint("Call it in a statement of its own, outside BEGIN ... COMMIT and outside "
                         "PL/pgSQL blocks with an EXCEPTION clause, or queue the window with "
                         "convoy_backup_trigger().")));
    // A standby sees none of the primary's open transactions.
    if (RecoveryInProgress())
        ereport(ERROR,
                (errcode(ERRCODE_READ_ONLY_SQL_TRANSACTION),
                 errmsg("cannot execute %s during recovery", "convoy_backup_export()"),
                 errdetail("A standby cannot tell when the primary's transactions that could "
                           "still commit rows into the window have ended."),
                 errhint("Call it on the primary server.")));
    // A refused table list or interval would export the wrong tables (the
    // default list is empty) without a word, as the workers would.
    if (const RejectedSetting *rejected = rejected_setting())
        ereport(ERROR,
                (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                 errmsg("invalid value for parameter \"%s\": \"%s\"", rejected->name,
                        rejected->value),
                 errdetail("The server refused this value from postgresql.conf, so %s would not "
                           "export what is configured.",
                           "convoy_backup_export()"),
                 errhint(rejected->restart_only
                             ? "Correct it in postgresql.conf and restart the server."
                             : "Correct it in postgresql.conf and reload the configuration.")));
    InitMaterializedSRF(fcinfo, 0);
    ReturnSetInfo *rsinfo = reinterpret_cast<ReturnSetInfo *>(fcinfo->resultinfo);

    if (SPI_connect() != SPI_OK_CONNECT)
        elog(ERROR, "SPI_connect failed");
    Oid types[2] = {TIMESTAMPTZOID, TIMESTAMPTZOID};
    Datum args[2] = {PG_GETARG_DATUM(0), PG_GETARG_DATUM(1)};
    char nulls[2] = {PG_ARGISNULL(0) ? 'n' : ' ', PG_ARGISNULL(1) ? 'n' : ' '};
    SPI_execute_with_args("SELECT convoy_backup.check_manual_window($1, $2)", 2, types, args,
                          nulls, false, 0);
    TimestampTz start = PG_GETARG_TIMESTAMPTZ(0);
    TimestampTz end = PG_GETARG_TIMESTAMPTZ(1);

    // Waits for the transactions that could still commit rows into the window
    // (see export/window.hpp), then reads every table from a snapshot taken
    // after them: the latest, not the statement's, which in REPEATABLE READ was
    // taken before the wait.
    wait_for_settle_point(end);
    OpenTransactions open = open_transactions();
    wait_for_open_transactions(&open, end);
    PushActiveSnapshot(GetLatestSnapshot());
    TableExport *results = static_cast<TableExport *>(palloc0(sizeof(TableExport) * max_backup_tables));
    int count = export_window(start, end, results);
    PopActiveSnapshot();
    SPI_finish();

    for (int i = 0; i < count; i++) {
        Datum values[5];
        bool isnull[5] = {false, false, false, false, false};
        values[0] = CStringGetTextDatum(results[i].table);
        values[1] = Int64GetDatum(results[i].rows);
        values[2] = Int64GetDatum(results[i].bytes);
        values[3] = CStringGetTextDatum(results[i].key);
        values[4] = CStringGetTextDatum(results[i].store);
        tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, isnull);
    }
    return (Datum) 0;
}

}
