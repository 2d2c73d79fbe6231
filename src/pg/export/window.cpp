// Export of one window: catalog checks, a read-only cursor per table, and the
// rows streamed through gzip into storage, then each object's manifest.
//
// The cursor is fetched from inside the core's object writer (C++ frames that own
// the upload), so every PostgreSQL call made there goes through pg_guarded(): an
// ERROR becomes a C++ exception, the upload is aborted as the frames unwind, and
// the error is raised again once the core has returned.
#include "core/batch/object_key.hpp"
#include "core/catalog/cataloged_object.hpp"
#include "pg/common/boundary.hpp"
#include "pg/common/pg_compat.hpp"
#include "pg/encode/database_encoding.hpp"
#include "pg/common/storage_access.hpp"
#include "pg/common/unix_time.hpp"

#include "pg/export/window.hpp"
#include "pg/encode/row_encoder.hpp"
#include "pg/common/worker_wait.hpp"

extern "C" {
#include "access/htup_details.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "nodes/parsenodes.h"
#include "nodes/plannodes.h"
#include "storage/lockdefs.h"
#include "storage/proc.h"
#include "storage/procarray.h"
#include "utils/backend_status.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/portal.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"
}

namespace convoy::pg {

namespace {

constexpr long rows_per_fetch = 1000;

// Finds the configured table in the catalogs and locks it until the end of the
// transaction, so that it is not dropped, renamed or turned into a view while
// it is read. ERRORs if there is no such table, or if it is not an ordinary or
// partitioned table: reading a view (or a table turned into one by an ON SELECT
// rule), a foreign table or a materialized view would run its definer's code.
Oid lock_configured_table(const ConfiguredTable &table) {
    RangeVar *name = makeRangeVar(pstrdup(table.schema), pstrdup(table.table), -1);
    Oid relid = RangeVarGetRelid(name, AccessShareLock, true);
    if (!OidIsValid(relid))
        ereport(ERROR, (errcode(ERRCODE_UNDEFINED_TABLE),
                        errmsg("table %s does not exist", table.display),
                        errhint("Check convoy_backup.tables.")));
    char relkind = get_rel_relkind(relid);
    if (relkind != RELKIND_RELATION && relkind != RELKIND_PARTITIONED_TABLE)
        ereport(ERROR, (errcode(ERRCODE_WRONG_OBJECT_TYPE),
                        errmsg("cannot export relation %s", table.display),
                        errdetail_relkind_not_supported(relkind),
                        errhint("convoy_backup.tables may name only ordinary and partitioned "
                                "tables.")));
    return relid;
}

// Who was reading before a table's owner took over (see read_as_owner()).
struct SavedIdentity {
    Oid user;
    int sec_context;
    int guc_nest_level;
};

// Reads on as the owner of relid, as autovacuum and REFRESH MATERIALIZED VIEW
// do: whatever code the table runs (casts, row-level security policies,
// functions of a partition key) runs with its owner's rights, never with the
// superuser's, and in a security-restricted operation. search_path is pinned
// to pg_catalog, pg_temp, so that only the system's operators and functions
// are found by name. restore_identity() undoes this; so does the end of the
// (sub)transaction if an ERROR comes first.
SavedIdentity read_as_owner(Oid relid, const ConfiguredTable &table) {
    HeapTuple tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
    if (!HeapTupleIsValid(tuple))
        elog(ERROR, "cache lookup failed for relation %u", relid);
    Form_pg_class form = reinterpret_cast<Form_pg_class>(GETSTRUCT(tuple));
    Oid owner = form->relowner;
    Oid schema = form->relnamespace;
    ReleaseSysCache(tuple);
    // The query names the table, which the owner may do only with USAGE on its
    // schema: say so, rather than fail in the middle of the query.
    if (schema_aclcheck(schema, owner, ACL_USAGE) != ACLCHECK_OK)
        ereport(ERROR, (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
                        errmsg("permission denied for schema %s", get_namespace_name(schema)),
                        errdetail("Table %s is exported with the rights of its owner, role %s.",
                                  table.display, GetUserNameFromId(owner, false)),
                        errhint("Grant USAGE on the schema to the table's owner.")));

    SavedIdentity saved;
    GetUserIdAndSecContext(&saved.user, &saved.sec_context);
    SetUserIdAndSecContext(owner, saved.sec_context | SECURITY_LOCAL_USERID_CHANGE |
                                      SECURITY_RESTRICTED_OPERATION);
    saved.guc_nest_level = NewGUCNestLevel();
    (void) set_config_option("search_path", "pg_catalog, pg_temp", PGC_USERSET, PGC_S_SESSION,
                             GUC_ACTION_SAVE, true, 0, false);
    return saved;
}

// Also rolls back whatever settings the table's code changed, and the user of a
// SECURITY DEFINER function that a caught ERROR left behind.
void restore_identity(const SavedIdentity &saved) {
    AtEOXact_GUC(false, saved.guc_nest_level);
    SetUserIdAndSecContext(saved.user, saved.sec_context);
}

// The cursor must read relid itself. Its query names the relation, and were
// the name to mean another one by the time it was parsed (its schema renamed
// and a view put in its place), this refuses it before any row is read.
void check_reads_relation(Portal portal, Oid relid, const ConfiguredTable &table) {
    bool reads_relid = false;
    if (list_length(portal->stmts) == 1) {
        PlannedStmt *stmt = linitial_node(PlannedStmt, portal->stmts);
        if (stmt->rtable != NIL) {
            RangeTblEntry *rte = linitial_node(RangeTblEntry, stmt->rtable);
            reads_relid = rte->rtekind == RTE_RELATION && rte->relid == relid;
        }
    }
    if (!reads_relid)
        ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                        errmsg("table %s was replaced while its export started", table.display)));
}

bool has_column(Oid relid, const char *column) { return get_attnum(relid, column) > 0; }

// The rows of one table's window, fetched batch by batch into `lines`.
struct WindowCursor {
    Portal portal;
    const char *time_column; // the table's, whose range the manifest records
    RowEncoder *encoder;
    MemoryContext batch_context;
    StringInfoData lines;
    int64 rows;
    TimeRange times;
};

// Fetches and encodes the next batch; false once the cursor is exhausted.
// PostgreSQL code: may ERROR, so the core reaches it only via pg_guarded().
bool fetch_batch(WindowCursor *cursor) {
    resetStringInfo(&cursor->lines);
    SPI_cursor_fetch(cursor->portal, true, rows_per_fetch);
    uint64 fetched = SPI_processed;
    SPITupleTable *tuples = SPI_tuptable;
    if (cursor->encoder == nullptr)
        cursor->encoder = create_row_encoder(tuples->tupdesc, cursor->time_column);
    int natts = tuples->tupdesc->natts;
    Datum *values = static_cast<Datum *>(palloc(sizeof(Datum) * Max(natts, 1)));
    bool *nulls = static_cast<bool *>(palloc(sizeof(bool) * Max(natts, 1)));
    for (uint64 i = 0; i < fetched; i++) {
        heap_deform_tuple(tuples->vals[i], tuples->tupdesc, values, nulls);
        // Output functions allocate: give them a context reset after each row.
        MemoryContext old = MemoryContextSwitchTo(cursor->batch_context);
        encode_row(cursor->encoder, &cursor->lines, values, nulls, &cursor->times);
        MemoryContextSwitchTo(old);
        MemoryContextReset(cursor->batch_context);
        appendStringInfoChar(&cursor->lines, '\n');
    }
    pfree(values);
    pfree(nulls);
    SPI_freetuptable(tuples);
    cursor->rows += int64(fetched);
    return fetched > 0;
}

// The window's rows of relation relid. Every name is quoted as SQL needs it,
// the relation's taken from the catalogs by its OID.
Portal open_window_cursor(Oid relid, const char *time_column, bool skip_deleted,
                          TimestampTz start, TimestampTz end) {
    StringInfoData query;
    initStringInfo(&query);
    const char *relation =
        quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)), get_rel_name(relid));
    const char *column = quote_identifier(time_column);
    appendStringInfo(&query, "SELECT * FROM %s WHERE %s >= $1 AND %s < $2", relation, column, column);
    if (skip_deleted)
        appendStringInfo(&query, " AND %s IS NULL", quote_identifier("deleted_at"));
    Oid types[2] = {TIMESTAMPTZOID, TIMESTAMPTZOID};
    Datum values[2] = {TimestampTzGetDatum(start), TimestampTzGetDatum(end)};
    Portal portal = SPI_cursor_open_with_args(nullptr, query.data, 2, types, values, nullptr, true,
                                              CURSOR_OPT_NO_SCROLL);
    pfree(query.data);
    return portal;
}

void export_table(const ConfiguredTable &table, TimestampTz start, TimestampTz end,
                  TableExport *result) {
    const char *time_column = table.time_column[0] ? table.time_column : setting_time_column;
    Oid relid = lock_configured_table(table);
    if (!has_column(relid, time_column))
        ereport(ERROR, (errcode(ERRCODE_UNDEFINED_COLUMN),
                        errmsg("column \"%s\" does not exist in table %s", time_column, table.display),
                        errhint("Set convoy_backup.time_column, or name the table's column as "
                                "schema.table:column in convoy_backup.tables.")));

    bool skip_deleted = setting_skip_deleted_rows && has_column(relid, "deleted_at");

    // Manifests are UTF-8 whatever the database encoding.
    const char *manifest_table = utf8_copy(table.display, CurrentMemoryContext);
    const char *manifest_time_column = utf8_copy(time_column, CurrentMemoryContext);

    SavedIdentity identity = read_as_owner(relid, table);
    WindowCursor cursor;
    memset(&cursor, 0, sizeof(cursor));
    cursor.time_column = time_column;
    cursor.portal = open_window_cursor(relid, time_column, skip_deleted, start, end);
    check_reads_relation(cursor.portal, relid, table);
    cursor.batch_context = AllocSetContextCreate(CurrentMemoryContext, "convoy_backup export batch",
                                                 ALLOCSET_DEFAULT_SIZES);
    initStringInfo(&cursor.lines);

    strlcpy(result->table, table.display, sizeof(result->table));
    CoreFailure failure = run_core([&] {
        Manifest manifest;
        manifest.key = export_object_key(table.display, to_unix_micros(start), to_unix_micros(end));
        manifest.table = manifest_table;
        manifest.source = ObjectSource::exported;
        manifest.window_start_micros = to_unix_micros(start);
        manifest.window_end_micros = to_unix_micros(end);
        manifest.time_column = manifest_time_column;
        std::shared_ptr<Storage> storage = configured_storage();
        // The object, then its manifest; the job is completed only after both.
        ObjectWritten written = write_cataloged_object(*storage, manifest, [&](auto &&emit) {
            bool more = true;
            while (more) {
                pg_guarded([&] { more = fetch_batch(&cursor); });
                if (cursor.lines.len > 0)
                    emit(cursor.lines.data, static_cast<size_t>(cursor.lines.len));
            }
            manifest.rows = uint64_t(cursor.rows);
            if (cursor.times.seen) {
                manifest.time_min_micros = cursor.times.min_micros;
                manifest.time_max_micros = cursor.times.max_micros;
            }
        }, 1, CompressOn::helper); // this backend's core goes on fetching and encoding rows
        result->bytes = int64(written.compressed_bytes);
        strlcpy(result->key, storage->stored_key(manifest.key).c_str(), sizeof(result->key));
        strlcpy(result->store, storage->describe().c_str(), sizeof(result->store));
    });
    if (!failure.failed) {
        result->rows = cursor.rows;
        SPI_cursor_close(cursor.portal);
        if (cursor.encoder)
            free_row_encoder(cursor.encoder);
        MemoryContextDelete(cursor.batch_context);
        pfree(cursor.lines.data);
    }
    restore_identity(identity);
    // Storage settings that cannot work are about no table in particular.
    if (failure.failed && failure.kind == ErrorKind::invalid_config)
        ereport(ERROR, (errcode(failure_sqlstate(failure)), errmsg("%s", failure.message),
                        failure_aux(failure)));
    if (failure.failed)
        ereport(ERROR, (errcode(failure_sqlstate(failure)),
                        errmsg("could not export table %s: %s", table.display, failure.message),
                        failure_aux(failure)));
}

} // namespace

int export_window(TimestampTz start, TimestampTz end, TableExport *results) {
    check_database_encoding();
    const ConfiguredTables &tables = configured_tables();
    for (int i = 0; i < tables.count; i++) {
        memset(&results[i], 0, sizeof(TableExport));
        export_table(tables.tables[i], start, end, &results[i]);
    }
    return tables.count;
}

void wait_for_settle_point(TimestampTz end) {
    TimestampTz settle_point = end + settle_margin_us;
    for (;;) {
        TimestampTz now = GetCurrentTimestamp();
        if (now >= settle_point)
            return;
        wait_for_latch_or_fd(-1, Max(TimestampDifferenceMilliseconds(now, settle_point), 1));
        CHECK_FOR_INTERRUPTS();
    }
}

OpenTransactions open_transactions() {
    OpenTransactions open;
    // Every transaction of this database, whatever its xmin (prepared ones have
    // none), but for autovacuum and lazy VACUUM.
    open.vxids = GetCurrentVirtualXIDs(InvalidTransactionId, false, false,
                                       PROC_IS_AUTOVACUUM | PROC_IN_VACUUM, &open.count);
    return open;
}

namespace {

// The process whose transaction vxid is, or 0 for a prepared transaction (it
// keeps the vxid of the session that prepared it, which has moved on; a
// recovered one has no session at all) or one that has just ended.
int process_of(VirtualTransactionId vxid) {
    PGPROC *proc = proc_running(vxid);
    return proc != nullptr ? proc->pid : 0;
}

// Whether pg_stat_activity shows process pid in a transaction that began at or
// after end. Its entry may be older than the transaction found in the proc
// array, which is fine: a backend's transactions follow one another, so that
// one began later still. Unknown (track_activities off, no entry): false.
bool began_at_or_after(int pid, TimestampTz end) {
    int backends = pgstat_fetch_stat_numbackends();
    for (int i = 1; i <= backends; i++) {
        LocalPgBackendStatus *entry = local_backend_status(i);
        if (entry != nullptr && entry->backendStatus.st_procpid == pid)
            return entry->backendStatus.st_xact_start_timestamp >= end;
    }
    return false;
}

} // namespace

int forget_settled_transactions(OpenTransactions *open, TimestampTz end) {
    int left = 0;
    for (int i = 0; i < open->count; i++) {
        VirtualTransactionId vxid = open->vxids[i];
        int pid = process_of(vxid);
        if (pid != 0 && began_at_or_after(pid, end))
            continue;
        if (!VirtualXactLock(vxid, false))
            open->vxids[left++] = vxid;
    }
    open->count = left;
    return left;
}

char *describe_open_transactions(const OpenTransactions &open) {
    StringInfoData text;
    initStringInfo(&text);
    for (int i = 0; i < open.count; i++) {
        if (i > 0)
            appendStringInfoString(&text, ", ");
        int pid = process_of(open.vxids[i]);
        if (pid != 0)
            appendStringInfo(&text, "process %d", pid);
        else
            appendStringInfoString(&text, "a prepared transaction");
    }
    return text.data;
}

namespace {

void settle_wait_context(void *arg) {
    errcontext("while waiting for the transactions open when the window ending at %s was settled",
               timestamptz_to_str(*static_cast<TimestampTz *>(arg)));
}

} // namespace

void wait_for_open_transactions(OpenTransactions *open, TimestampTz end) {
    (void) forget_settled_transactions(open, end);
    ErrorContextCallback context;
    context.callback = settle_wait_context;
    context.arg = &end;
    context.previous = error_context_stack;
    error_context_stack = &context;
    for (int i = 0; i < open->count; i++)
        (void) VirtualXactLock(open->vxids[i], true);
    error_context_stack = context.previous;
    open->count = 0;
}

} // namespace convoy::pg
