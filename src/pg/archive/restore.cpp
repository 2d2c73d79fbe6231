// convoy_backup_restore(table, start, end, into): inserts the backed-up rows of
// the table whose time is in [start, end) into `into` (the table itself by
// default), in the caller's transaction: all of them or none.
//
// Each line in range is read back with into's row type as it arrives
// (json_populate_record's semantics, see line_values.hpp) and waits in a
// staging relation; once half of convoy_backup.read_memory is used, one
// INSERT ... SELECT moves the lot into the table, skipping rows whose primary
// key is there already (ON CONFLICT DO NOTHING: also copies of a row in other
// objects). Without a primary key, every row waits (in a temporary file past
// that) for one INSERT at the end, which skips rows equal to one there or to
// another read. The inserts run in one internal subtransaction, so that a
// failing one can be rolled back and the line that broke it found (by
// inserting prefixes of its chunk) before the error is raised with the
// object's key and the line's number. Anything wrong with an object (corrupt,
// lost) is an ERROR too: nothing stays inserted.
//
// PostgreSQL-style code: it owns nothing a longjmp could skip; the reader
// thread is stopped by a memory context callback (archive_read.cpp).
#include "core/archive/archive_reader.hpp"
#include "core/json/line_scan.hpp"

#include "pg/archive/archive_access.hpp"
#include "pg/archive/archive_read.hpp"
#include "pg/archive/archive_target.hpp"
#include "pg/archive/line_values.hpp"
#include "pg/archive/staging.hpp"
#include "pg/archive/time_filter.hpp"
#include "pg/encode/database_encoding.hpp"

extern "C" {
#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/resowner.h"
#include "utils/timestamp.h"
#include "utils/typcache.h"
}

namespace convoy::pg {

namespace {

constexpr const char *function_name = "convoy_backup_restore()";
constexpr const char *rows_name = "convoy_backup_rows";
// Staging columns before the row's own: object, line number, sequence.
constexpr int meta_columns = 3;

struct Restore {
    ArchiveTable *table; // whose backup is read
    Oid into;
    char *into_name;     // qualified, quoted
    Oid into_rowtype;
    TupleDesc into_desc; // into's row type
    int column_count;    // insertable columns of into
    AttrNumber *columns; // their attribute numbers
    bool by_key;         // into has a primary key
    Oid into_key;        // its constraint
    TimestampTz start, end;
    ArchiveRead *read;
    LineValues *line_values;
    char **members;  // what the reader finds: the columns, then maybe the time column
    int member_count;
    int time_member;
    TimeFilter *time_filter;
    Staging *staging;
    SPIPlanPtr insert; // with a primary key: prepared once, run per chunk
    char *insert_sql;  // without: planned when it runs, once
    // The internal subtransaction the inserts run in, begun at the first.
    bool in_subtransaction;
    MemoryContext memory;
    ResourceOwner owner;
    MemoryContext batch_context;
    uint64 chunk_bytes;
    int64 next_seq;    // sequence number of the next staged row
    int64 chunk_first; // of the first row of the staged chunk
    int64 rows_read, rows_inserted;
    // Stored keys of the objects, by object number, as they come.
    char **keys;
    int key_slots;
    // What the stream is doing, for the error handler.
    bool converting;
    bool inserting;
    const char *current_key;
    uint64 current_line;
};

TupleDesc staging_desc(Restore *r) {
    TupleDesc desc = CreateTemplateTupleDesc(meta_columns + r->column_count);
    TupleDescInitEntry(desc, 1, "o", INT4OID, -1, 0);
    TupleDescInitEntry(desc, 2, "l", INT8OID, -1, 0);
    TupleDescInitEntry(desc, 3, "s", INT8OID, -1, 0);
    for (int i = 0; i < r->column_count; i++) {
        Form_pg_attribute att = TupleDescAttr(r->into_desc, r->columns[i] - 1);
        char name[16];
        snprintf(name, sizeof(name), "c%d", i + 1);
        TupleDescInitEntry(desc, AttrNumber(meta_columns + i + 1), name, att->atttypid,
                           att->atttypmod, 0);
        TupleDescInitEntryCollation(desc, AttrNumber(meta_columns + i + 1), att->attcollation);
    }
    return desc;
}

// "c1, c2, ..." with a prefix ("d." or "").
void append_staged_columns(StringInfo out, Restore *r, const char *prefix) {
    for (int i = 0; i < r->column_count; i++)
        appendStringInfo(out, "%s%sc%d", i > 0 ? ", " : "", prefix, i + 1);
}

void append_into_columns(StringInfo out, Restore *r, const char *prefix) {
    for (int i = 0; i < r->column_count; i++)
        appendStringInfo(out, "%s%s%s", i > 0 ? ", " : "", prefix,
                         quote_identifier(NameStr(TupleDescAttr(r->into_desc, r->columns[i] - 1)->attname)));
}

// INSERT of the staged rows with sequence numbers in [$1, $2).
void prepare_insert(Restore *r) {
    StringInfoData q;
    initStringInfo(&q);
    appendStringInfo(&q, "INSERT INTO %s (", r->into_name);
    append_into_columns(&q, r, "");
    appendStringInfoString(&q, ") OVERRIDING SYSTEM VALUE SELECT ");
    if (r->by_key) {
        append_staged_columns(&q, r, "");
        appendStringInfo(&q,
                         " FROM %s WHERE s OPERATOR(pg_catalog.>=) $1 AND s OPERATOR(pg_catalog.<) $2"
                         " ON CONFLICT ON CONSTRAINT %s DO NOTHING",
                         rows_name, quote_identifier(get_constraint_name(r->into_key)));
    } else {
        // Equal rows are rows whose text is equal; existing ones can only be
        // in the range, as their time is that of the row.
        append_staged_columns(&q, r, "d.");
        appendStringInfoString(&q, " FROM (SELECT DISTINCT ON (ROW(");
        append_staged_columns(&q, r, "");
        appendStringInfoString(&q, ")::pg_catalog.text COLLATE \"C\") ");
        append_staged_columns(&q, r, "");
        appendStringInfo(&q, ", s FROM %s WHERE s OPERATOR(pg_catalog.>=) $1 AND s "
                             "OPERATOR(pg_catalog.<) $2 ORDER BY ROW(",
                         rows_name);
        append_staged_columns(&q, r, "");
        appendStringInfo(&q, ")::pg_catalog.text COLLATE \"C\", s) d WHERE NOT EXISTS (SELECT FROM %s e WHERE ",
                         r->into_name);
        AttrNumber time = get_attnum(r->into, r->table->time_column);
        if (time > 0) {
            const char *column = quote_identifier(r->table->time_column);
            appendStringInfo(&q, "e.%s >= $3 AND e.%s < $4 AND ", column, column);
        }
        appendStringInfoString(&q, "ROW(");
        append_into_columns(&q, r, "e.");
        appendStringInfoString(&q, ")::pg_catalog.text OPERATOR(pg_catalog.=) ROW(");
        append_staged_columns(&q, r, "d.");
        appendStringInfoString(&q, ")::pg_catalog.text) ORDER BY d.s");
    }
    if (!r->by_key) {
        // Planned when it runs, with the table's size then: the anti-join
        // must not be a nested loop.
        r->insert_sql = q.data;
        return;
    }
    Oid types[4] = {INT8OID, INT8OID, TIMESTAMPTZOID, TIMESTAMPTZOID};
    r->insert = SPI_prepare(q.data, 4, types);
    if (r->insert == nullptr)
        elog(ERROR, "SPI_prepare failed for \"%s\": %s", q.data, SPI_result_code_string(SPI_result));
}

int64 insert_staged(Restore *r, int64 first, int64 end) {
    Oid types[4] = {INT8OID, INT8OID, TIMESTAMPTZOID, TIMESTAMPTZOID};
    Datum args[4] = {Int64GetDatum(first), Int64GetDatum(end), TimestampTzGetDatum(r->start),
                     TimestampTzGetDatum(r->end)};
    int rc = r->by_key ? SPI_execute_plan(r->insert, args, nullptr, false, 0)
                       : SPI_execute_with_args(r->insert_sql, 4, types, args, nullptr, false, 0);
    if (rc != SPI_OK_INSERT)
        elog(ERROR, "inserting the restored rows failed: %s", SPI_result_code_string(rc));
    return int64(SPI_processed);
}

void flush_chunk(Restore *r) {
    if (r->staging->rows == 0)
        return;
    if (!r->in_subtransaction) {
        BeginInternalSubTransaction(nullptr);
        MemoryContextSwitchTo(r->memory);
        r->in_subtransaction = true;
    }
    r->inserting = true;
    r->rows_inserted += insert_staged(r, r->chunk_first, PG_INT64_MAX);
    r->inserting = false;
    reset_staging(r->staging);
    r->chunk_bytes = 0;
    r->chunk_first = r->next_seq;
}

void remember_key(Restore *r, size_t object, const char *key) {
    if (object >= size_t(r->key_slots)) {
        int slots = Max(int(object) + 1, r->key_slots * 2);
        char **keys = static_cast<char **>(palloc0(sizeof(char *) * slots));
        if (r->keys) {
            memcpy(keys, r->keys, sizeof(char *) * r->key_slots);
            pfree(r->keys);
        }
        r->keys = keys;
        r->key_slots = slots;
    }
    if (r->keys[object] == nullptr)
        r->keys[object] = archive_stored_key(r->read, key);
}

void stage_lines(Restore *r, const archive::EventView &e) {
    MemoryContext caller = MemoryContextSwitchTo(r->batch_context);
    Datum *values = static_cast<Datum *>(palloc(sizeof(Datum) * (meta_columns + r->column_count)));
    bool *nulls = static_cast<bool *>(palloc(sizeof(bool) * (meta_columns + r->column_count)));
    values[0] = Int32GetDatum(int32(e.object));
    nulls[0] = nulls[1] = nulls[2] = false;
    r->current_key = r->keys[e.object];
    MemoryContext line_context = AllocSetContextCreate(r->batch_context, "convoy_backup restore line",
                                                       ALLOCSET_DEFAULT_SIZES);
    for (size_t i = 0; i < e.line_count; i++) {
        const archive::LineInfo &info = e.lines[i];
        const json::MemberValue *members = e.members + i * e.member_count;
        const char *line = e.text + info.offset;
        r->current_line = info.number;
        MemoryContextSwitchTo(line_context);
        r->converting = true;
        bool keep = info.time == archive::TimeState::parsed ||
                    time_in_range(r->time_filter, line, members[r->time_member]);
        if (keep)
            line_to_values(r->line_values, line, int(info.length), members, info.nul_escape,
                           info.escaped_key, values + meta_columns, nulls + meta_columns);
        r->converting = false;
        if (keep) {
            values[1] = Int64GetDatum(int64(info.number));
            values[2] = Int64GetDatum(r->next_seq++);
            uint64 before = r->staging->bytes;
            staging_put(r->staging, values, nulls);
            r->chunk_bytes += r->staging->bytes - before;
            r->rows_read++;
        }
        MemoryContextReset(line_context);
    }
    r->current_key = nullptr;
    MemoryContextSwitchTo(caller);
    MemoryContextReset(r->batch_context);
    // Without a key, every row waits for the one INSERT at the end, which
    // compares it with all the others.
    if (r->by_key && r->chunk_bytes >= uint64(setting_read_memory_kb) * 1024 / 2)
        flush_chunk(r);
}

// Reads every object and inserts its rows. A corrupt object stops it at once;
// a missing one once every other object has been read, so that a corrupt one
// is named first.
void stream(Restore *r) {
    archive::EventView e;
    int lost = -1;
    const char *lost_reason = nullptr;
    while (next_archive_event(r->read, &e)) {
        remember_key(r, e.object, e.key);
        switch (e.kind) {
        case archive::EventKind::lines:
            stage_lines(r, e);
            break;
        case archive::EventKind::object_corrupt:
            ereport(ERROR, (errcode(ERRCODE_DATA_CORRUPTED),
                            errmsg("backup object \"%s\" is corrupt: %s", r->keys[e.object], e.reason),
                            errdetail("No row was restored."),
                            errhint("convoy_backup_verify() lists every fault of the range.")));
            break;
        case archive::EventKind::object_lost:
            if (lost < 0) {
                lost = int(e.object);
                lost_reason = pstrdup(e.reason);
            }
            break;
        default:
            break;
        }
    }
    if (lost >= 0)
        ereport(ERROR, (errcode(ERRCODE_UNDEFINED_FILE),
                        errmsg("backup object \"%s\" is missing: %s", r->keys[lost], lost_reason),
                        errdetail("No row was restored."),
                        errhint("convoy_backup_verify() lists every fault of the range.")));
    flush_chunk(r);
}

// Data and constraint errors can be pinned on a line; others (a cancel, out
// of memory) are raised as they are.
bool about_the_data(int sqlerrcode) {
    int sqlclass = ERRCODE_TO_CATEGORY(sqlerrcode);
    return sqlclass == ERRCODE_DATA_EXCEPTION || sqlclass == ERRCODE_INTEGRITY_CONSTRAINT_VIOLATION;
}

struct Caller {
    MemoryContext memory;
    ResourceOwner owner;
};

// Inserts the chunk's rows with sequence numbers [first, end) and rolls them
// back: true if that failed with an error about the data.
bool insert_fails(Restore *r, int64 first, int64 end) {
    Caller caller{CurrentMemoryContext, CurrentResourceOwner};
    volatile bool failed = false;
    BeginInternalSubTransaction(nullptr);
    MemoryContextSwitchTo(caller.memory);
    PG_TRY();
    {
        (void) insert_staged(r, first, end);
    }
    PG_CATCH();
    {
        MemoryContextSwitchTo(caller.memory);
        ErrorData *error = CopyErrorData();
        if (!about_the_data(error->sqlerrcode)) {
            RollbackAndReleaseCurrentSubTransaction();
            MemoryContextSwitchTo(caller.memory);
            CurrentResourceOwner = caller.owner;
            ReThrowError(error);
        }
        FlushErrorState();
        FreeErrorData(error);
        failed = true;
    }
    PG_END_TRY();
    RollbackAndReleaseCurrentSubTransaction();
    MemoryContextSwitchTo(caller.memory);
    CurrentResourceOwner = caller.owner;
    return failed;
}

// The staged row with sequence number seq: its object and line number.
void staged_origin(Restore *r, int64 seq, int *object, int64 *line) {
    Oid types[1] = {INT8OID};
    Datum args[1] = {Int64GetDatum(seq)};
    char query[128];
    snprintf(query, sizeof(query), "SELECT o, l FROM %s WHERE s OPERATOR(pg_catalog.=) $1", rows_name);
    if (SPI_execute_with_args(query, 1, types, args, nullptr, true, 1) != SPI_OK_SELECT ||
        SPI_processed != 1)
        elog(ERROR, "staged row %lld not found", (long long) seq);
    bool isnull;
    *object = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
    *line = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
}

[[noreturn]] void raise_line_error(Restore *r, const char *key, uint64 line, ErrorData *error) {
    ereport(ERROR, (errcode(error->sqlerrcode),
                    errmsg("could not restore line %llu of backup object \"%s\" into table %s",
                           (unsigned long long) line, key, r->into_name),
                    error->detail ? errdetail_internal("%s: %s", error->message, error->detail)
                                  : errdetail_internal("%s", error->message),
                    errhint("No row was restored.")));
    pg_unreachable();
}

// An INSERT of the chunk failed (and was rolled back): find the first row
// whose insert makes a prefix of the chunk fail.
[[noreturn]] void locate_failure(Restore *r, ErrorData *error) {
    int64 good = r->chunk_first; // inserting [chunk_first, good) works
    int64 bad = r->next_seq;     // inserting [chunk_first, bad) fails
    if (!insert_fails(r, r->chunk_first, bad))
        // It took rows of earlier chunks (a unique index other than the
        // primary key, say): name the chunk.
        ereport(ERROR, (errcode(error->sqlerrcode),
                        errmsg("could not restore the rows of table %s", r->into_name),
                        error->detail ? errdetail_internal("%s: %s", error->message, error->detail)
                                      : errdetail_internal("%s", error->message),
                        errhint("No row was restored.")));
    while (bad - good > 1) {
        CHECK_FOR_INTERRUPTS();
        int64 middle = good + (bad - good) / 2;
        if (insert_fails(r, r->chunk_first, middle))
            bad = middle;
        else
            good = middle;
    }
    int object;
    int64 line;
    staged_origin(r, good, &object, &line);
    raise_line_error(r, r->keys[object], uint64(line), error);
}

// The columns INSERT can write: not dropped, not generated.
void insertable_columns(Restore *r) {
    r->columns = static_cast<AttrNumber *>(palloc(sizeof(AttrNumber) * Max(r->into_desc->natts, 1)));
    r->column_count = 0;
    for (int i = 0; i < r->into_desc->natts; i++) {
        Form_pg_attribute att = TupleDescAttr(r->into_desc, i);
        if (!att->attisdropped && att->attgenerated == '\0')
            r->columns[r->column_count++] = att->attnum;
    }
}

Restore *prepare_restore(FunctionCallInfo fcinfo) {
    Oid relid;
    TimestampTz start, end;
    read_range_arguments(fcinfo, function_name, &relid, &start, &end);
    Oid into = PG_ARGISNULL(3) ? relid : PG_GETARG_OID(3);
    require_operator(function_name);
    PreventCommandIfReadOnly(function_name);
    PreventCommandDuringRecovery(function_name);
    check_database_encoding();

    Restore *r = static_cast<Restore *>(palloc0(sizeof(Restore)));
    r->table = resolve_archive_table(relid, function_name);
    require_select(r->table);
    char relkind = get_rel_relkind(into);
    if (relkind != RELKIND_RELATION && relkind != RELKIND_PARTITIONED_TABLE)
        ereport(ERROR, (errcode(ERRCODE_WRONG_OBJECT_TYPE),
                        errmsg("cannot restore rows into relation \"%s\"", get_rel_name(into)),
                        errdetail_relkind_not_supported(relkind)));
    require_restore_target(into, function_name);
    r->into = into;
    r->into_name = quote_qualified_identifier(get_namespace_name(get_rel_namespace(into)),
                                              get_rel_name(into));
    r->into_rowtype = get_rel_type_id(into);
    r->into_desc = lookup_rowtype_tupdesc_copy(r->into_rowtype, -1);
    insertable_columns(r);
    // Conflicts are those of into's primary key (the table's may differ); a
    // deferrable one cannot decide them, so rows are compared whole.
    ArchiveTable into_key;
    find_primary_key(into, &into_key);
    r->by_key = into_key.key_count > 0 && !into_key.key_deferrable;
    r->into_key = into_key.key_constraint;
    r->start = start;
    r->end = end;
    return r;
}

} // namespace

} // namespace convoy::pg

extern "C" {

PG_FUNCTION_INFO_V1(convoy_backup_restore);

Datum convoy_backup_restore(PG_FUNCTION_ARGS) {
    using namespace convoy::pg;
    TupleDesc result_desc;
    if (get_call_result_type(fcinfo, nullptr, &result_desc) != TYPEFUNC_COMPOSITE)
        elog(ERROR, "return type must be a row type");
    Restore *r = prepare_restore(fcinfo);
    int settings = pin_read_settings();
    r->line_values = create_line_values(r->into, r->column_count, r->columns);
    // The reader finds each column's member, and the time column's.
    r->members = static_cast<char **>(palloc(sizeof(char *) * (r->column_count + 1)));
    memcpy(r->members, line_values_members(r->line_values), sizeof(char *) * r->column_count);
    r->member_count = r->column_count;
    r->time_member = -1;
    for (int i = 0; i < r->column_count; i++)
        if (strcmp(r->members[i], r->table->members[r->table->time_member]) == 0)
            r->time_member = i;
    if (r->time_member < 0) {
        r->time_member = r->member_count;
        r->members[r->member_count++] = r->table->members[r->table->time_member];
    }
    r->time_filter = create_time_filter(r->table, r->start, r->end);
    r->batch_context = AllocSetContextCreate(CurrentMemoryContext, "convoy_backup restore batch",
                                             ALLOCSET_DEFAULT_SIZES);
    // With a key, the staging relation never spills: it is emptied at half
    // of read_memory, and holding it all in memory keeps it readable after a
    // failed insert's subtransaction is rolled back. Without, it holds every
    // row until the end, in a temporary file past half of read_memory; the
    // file is made before the subtransaction begins, so it outlives a
    // rollback of it.
    r->staging = create_staging(rows_name, staging_desc(r),
                                r->by_key ? Max(setting_read_memory_kb, 1024)
                                          : Max(setting_read_memory_kb / 2, 64));
    if (SPI_connect() != SPI_OK_CONNECT)
        elog(ERROR, "SPI_connect failed");
    register_staging(r->staging);
    prepare_insert(r);
    ArchiveReadRequest request{r->table,
                               unix_micros_saturating(r->start),
                               unix_micros_saturating(r->end),
                               r->members,
                               r->member_count,
                               r->time_member,
                               false,
                               function_name,
                               nullptr,
                               0};
    r->read = start_archive_read(request);

    r->memory = CurrentMemoryContext;
    r->owner = CurrentResourceOwner;
    PG_TRY();
    {
        stream(r);
        if (r->in_subtransaction) {
            ReleaseCurrentSubTransaction();
            r->in_subtransaction = false;
        }
        MemoryContextSwitchTo(r->memory);
        CurrentResourceOwner = r->owner;
    }
    PG_CATCH();
    {
        MemoryContextSwitchTo(r->memory);
        ErrorData *error = CopyErrorData();
        FlushErrorState();
        // An ERROR never leaves this function with the subtransaction open.
        if (r->in_subtransaction) {
            RollbackAndReleaseCurrentSubTransaction();
            r->in_subtransaction = false;
        }
        MemoryContextSwitchTo(r->memory);
        CurrentResourceOwner = r->owner;
        if (about_the_data(error->sqlerrcode)) {
            if (r->converting)
                raise_line_error(r, r->current_key, r->current_line, error);
            if (r->inserting)
                locate_failure(r, error);
        }
        ReThrowError(error);
    }
    PG_END_TRY();

    SPI_finish();
    finish_archive_read(r->read);
    tuplestore_end(r->staging->store);
    unpin_read_settings(settings);

    Datum values[3] = {Int64GetDatum(r->rows_read), Int64GetDatum(r->rows_inserted),
                       Int64GetDatum(r->rows_read - r->rows_inserted)};
    bool nulls[3] = {};
    HeapTuple tuple = heap_form_tuple(BlessTupleDesc(result_desc), values, nulls);
    PG_RETURN_DATUM(HeapTupleGetDatum(tuple));
}

}
