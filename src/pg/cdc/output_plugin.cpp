// The logical decoding output plugin "convoy_backup" (this library's name).
//
// It passes on only INSERTs into the configured tables, each as one JSON object
// that equals to_jsonb() of the new row. UPDATE, DELETE, TRUNCATE and other
// tables return at the first check.
//
// Two ways of running:
//   - inside the cdc worker (no writer callbacks), rows go to cdc_batches, which
//     turns them into backup objects;
//   - through the SQL functions or a walsender (pg_logical_slot_get_changes,
//     pg_recvlogical), each row is one output message, for inspection and tests.
//     Option "tables" overrides convoy_backup.tables for such a session; without
//     it the session uses the value in force when it started, whatever reloads
//     happen while it decodes.
extern "C" {
#include "postgres.h"
#include "access/htup_details.h"
#include "commands/defrem.h"
#include "mb/pg_wchar.h"
#include "replication/logical.h"
#include "replication/output_plugin.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/rel.h"
}

#include "pg/cdc/batches.hpp"
#include "pg/encode/database_encoding.hpp"
#include "pg/common/lsn_format.hpp"
#include "pg/common/pg_compat.hpp"
#include "pg/cdc/relation_cache.hpp"
#include "pg/encode/row_encoder.hpp"
#include "pg/common/settings.hpp"

namespace convoy::pg {

namespace {

struct PluginState {
    bool to_worker;              // rows go to cdc_batches, not to output messages
    MemoryContext row_context;   // reset after every row
    ConfiguredTables *tables;    // outside the worker: the session's own copy
};

void parse_options(LogicalDecodingContext *ctx, PluginState *state, List *options) {
    ListCell *option;
    foreach (option, options) {
        DefElem *elem = static_cast<DefElem *>(lfirst(option));
        if (strcmp(elem->defname, "tables") == 0) {
            if (state->to_worker)
                ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                                errmsg("option \"tables\" is not accepted by the cdc worker")));
            ConfiguredTables *parsed = nullptr;
            const char *value = elem->arg ? strVal(elem->arg) : "";
            if (!parse_configured_tables(value, &parsed))
                ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                                errmsg("invalid value for option \"tables\": %s",
                                       GUC_check_errmsg_string ? GUC_check_errmsg_string : value),
                                GUC_check_errdetail_string
                                    ? errdetail_internal("%s", GUC_check_errdetail_string)
                                    : 0));
            state->tables = static_cast<ConfiguredTables *>(palloc(sizeof(ConfiguredTables)));
            memcpy(state->tables, parsed, sizeof(ConfiguredTables));
            guc_release(parsed);
        } else {
            ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                            errmsg("option \"%s\" is not recognized by output plugin convoy_backup",
                                   elem->defname)));
        }
    }
}

void startup(LogicalDecodingContext *ctx, OutputPluginOptions *options, bool is_init) {
    check_database_encoding(); // also refuses to create a slot where it could not decode
    PluginState *state = static_cast<PluginState *>(MemoryContextAllocZero(ctx->context, sizeof(PluginState)));
    state->to_worker = ctx->prepare_write == nullptr && cdc_active();
    state->row_context = AllocSetContextCreate(ctx->context, "convoy_backup row", ALLOCSET_DEFAULT_SIZES);
    ctx->output_plugin_private = state;
    // Rows are UTF-8, which is text only in a UTF-8 database: elsewhere they are
    // bytes (pg_logical_slot_get_binary_changes, convert_from(data, 'UTF8')).
    options->output_type = GetDatabaseEncoding() == PG_UTF8 ? OUTPUT_PLUGIN_TEXTUAL_OUTPUT
                                                             : OUTPUT_PLUGIN_BINARY_OUTPUT;
    options->receive_rewrites = false;
    if (is_init)
        return;
    MemoryContext old = MemoryContextSwitchTo(ctx->context);
    parse_options(ctx, state, ctx->output_plugin_options);
    if (!state->to_worker && state->tables == nullptr) {
        // A session keeps the list it started with: the setting's own copy is
        // freed by the next reload that changes it, while decoding goes on.
        state->tables = static_cast<ConfiguredTables *>(palloc(sizeof(ConfiguredTables)));
        memcpy(state->tables, &configured_tables(), sizeof(ConfiguredTables));
    }
    // The cdc worker's list is its own copy, replaced in place (cdc/batches.hpp).
    relation_cache_open(state->to_worker ? &cdc_tables() : state->tables, ctx->context);
    MemoryContextSwitchTo(old);
}

void shutdown(LogicalDecodingContext *ctx) {
    relation_cache_close();
}

void begin_transaction(LogicalDecodingContext *ctx, ReorderBufferTXN *txn) {}

struct EncodingRow {
    int table;
    ReorderBufferTXN *txn;
};

// Names the row an error is about; one that is too large for a PostgreSQL
// string (1 GB of JSON) can never be backed up, which the worker must know.
void encoding_row_context(void *arg) {
    const EncodingRow *row = static_cast<const EncodingRow *>(arg);
    errcontext("encoding a row of table %s in the transaction committed at %X/%X",
               cdc_tables().tables[row->table].display, CONVOY_LSN_ARGS(row->txn->final_lsn));
    if (geterrcode() == ERRCODE_PROGRAM_LIMIT_EXCEEDED)
        cdc_note_unencodable_row(row->table, row->txn);
}

void commit_transaction(LogicalDecodingContext *ctx, ReorderBufferTXN *txn, XLogRecPtr commit_lsn) {
    PluginState *state = static_cast<PluginState *>(ctx->output_plugin_private);
    if (state->to_worker)
        cdc_commit_transaction(txn);
}

void change(LogicalDecodingContext *ctx, ReorderBufferTXN *txn, Relation relation,
            ReorderBufferChange *change) {
    HeapTuple tuple = change_new_tuple(change);
    if (change->action != REORDER_BUFFER_CHANGE_INSERT || tuple == nullptr)
        return;
    RelationInfo *info = relation_cache_lookup(relation);
    if (info->table < 0)
        return;

    PluginState *state = static_cast<PluginState *>(ctx->output_plugin_private);
    Datum *values = info->values;
    bool *nulls = info->nulls;
    heap_deform_tuple(tuple, RelationGetDescr(relation), values, nulls);
    // Output functions allocate: give them a context reset after each row.
    MemoryContext old = MemoryContextSwitchTo(state->row_context);

    if (state->to_worker) {
        StringInfo out = cdc_staging_buffer(info->table);
        EncodingRow row{info->table, txn};
        ErrorContextCallback context{error_context_stack, encoding_row_context, &row};
        error_context_stack = &context;
        encode_row(info->encoder, out, values, nulls, cdc_staging_times(info->table));
        appendStringInfoChar(out, '\n');
        error_context_stack = context.previous;
    } else {
        OutputPluginPrepareWrite(ctx, true);
        encode_row(info->encoder, ctx->out, values, nulls);
        OutputPluginWrite(ctx, true);
    }
    MemoryContextSwitchTo(old);
    MemoryContextReset(state->row_context);
    if (state->to_worker)
        cdc_row_staged(info->table, txn,
                       row_source_bytes(info, RelationGetDescr(relation), values, nulls));
}

} // namespace

} // namespace convoy::pg

extern "C" {

PGDLLEXPORT void _PG_output_plugin_init(OutputPluginCallbacks *callbacks);

void _PG_output_plugin_init(OutputPluginCallbacks *callbacks) {
    callbacks->startup_cb = convoy::pg::startup;
    callbacks->begin_cb = convoy::pg::begin_transaction;
    callbacks->change_cb = convoy::pg::change;
    callbacks->commit_cb = convoy::pg::commit_transaction;
    callbacks->shutdown_cb = convoy::pg::shutdown;
}

}
