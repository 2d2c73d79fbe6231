// convoy_backup_verify(table, start, end): reads back every object that can
// hold rows of the table in [start, end) and compares its lines with the
// table's rows of that range.
//
// Each line in range becomes one small row in a staging relation (object,
// line number, source, key, digest); each row of the table another (key,
// digest of the row as the row encoder writes it, where the row is). The
// table is read while the reader thread decompresses, and SQL joins the two.
// A row whose line is byte for byte what the encoder makes of it matches; the
// few others are compared again as rows: their lines are read a second time
// and read back with the row type, and both sides compared as text, so that a
// line written with other settings (extra_float_digits 3, say) still matches.
// A table without a primary key is compared that way throughout: each line is
// read back as a row, and rows are matched as a multiset of their text.
//
// PostgreSQL-style code: it owns nothing a longjmp could skip; the reader
// thread is stopped by a memory context callback (archive_read.cpp).
#include "core/archive/archive_reader.hpp"
#include "core/json/line_scan.hpp"
#include "core/storage/sign/crypto.hpp"
#include "pg/common/boundary.hpp"

#include "pg/archive/archive_access.hpp"
#include "pg/archive/archive_read.hpp"
#include "pg/archive/archive_target.hpp"
#include "pg/archive/line_record.hpp"
#include "pg/archive/staging.hpp"
#include "pg/archive/time_filter.hpp"
#include "pg/encode/database_encoding.hpp"
#include "pg/encode/row_encoder.hpp"

extern "C" {
#include "access/htup_details.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/timestamp.h"
}

namespace convoy::pg {

namespace {

constexpr const char *function_name = "convoy_backup_verify()";
constexpr long rows_per_fetch = 1000;
constexpr long poll_ms = 100;

enum LineColumn { line_object, line_number, line_source, line_key, line_d1, line_d2, line_columns };
enum RowColumn { row_key, row_d1, row_d2, row_tableoid, row_ctid, row_columns };
enum DiffColumn { diff_key, diff_differs, diff_columns };

struct VerifyResult {
    int64 rows_in_table, rows_in_backup, missing, duplicated, mismatched;
    int64 objects_read, bytes_read, corrupt_objects;
};

struct Verify {
    ArchiveTable *table;
    TimestampTz start, end;
    bool by_key; // the table has a primary key
    ArchiveRead *read;
    Staging *lines; // convoy_backup_lines
    Staging *rows;  // convoy_backup_table_rows
    LineRecord *line_record;
    TimeFilter *time_filter;
    int time_member; // of the members the reader finds
    MemoryContext batch_context;
    List *corrupt; // object numbers (int) whose lines do not count
    char **object_keys; // keys by object number (without the store's prefix)
    int object_slots;
    VerifyResult result;
    // The table side, read while the reader thread works.
    Portal table_rows;
    bool table_done;
    RowEncoder *row_encoder;
    RowEncoder *key_encoder;
    int *key_positions; // of the key columns in the cursor's row
    MemoryContext row_context;
    uint64 rows_staged;
    // For the error context.
    const char *current_key;
    uint64 current_line;
};

TupleDesc lines_desc() {
    TupleDesc desc = CreateTemplateTupleDesc(line_columns);
    TupleDescInitEntry(desc, line_object + 1, "o", INT4OID, -1, 0);
    TupleDescInitEntry(desc, line_number + 1, "l", INT8OID, -1, 0);
    TupleDescInitEntry(desc, line_source + 1, "src", INT2OID, -1, 0);
    TupleDescInitEntry(desc, line_key + 1, "k", BYTEAOID, -1, 0);
    TupleDescInitEntry(desc, line_d1 + 1, "d1", INT8OID, -1, 0);
    TupleDescInitEntry(desc, line_d2 + 1, "d2", INT8OID, -1, 0);
    return desc;
}

TupleDesc rows_desc() {
    TupleDesc desc = CreateTemplateTupleDesc(row_columns);
    TupleDescInitEntry(desc, row_key + 1, "k", BYTEAOID, -1, 0);
    TupleDescInitEntry(desc, row_d1 + 1, "d1", INT8OID, -1, 0);
    TupleDescInitEntry(desc, row_d2 + 1, "d2", INT8OID, -1, 0);
    TupleDescInitEntry(desc, row_tableoid + 1, "toid", OIDOID, -1, 0);
    TupleDescInitEntry(desc, row_ctid + 1, "tid", TIDOID, -1, 0);
    return desc;
}

TupleDesc diffs_desc() {
    TupleDesc desc = CreateTemplateTupleDesc(diff_columns);
    TupleDescInitEntry(desc, diff_key + 1, "k", BYTEAOID, -1, 0);
    TupleDescInitEntry(desc, diff_differs + 1, "differs", BOOLOID, -1, 0);
    return desc;
}

// The key of a line, written as the row encoder writes the key columns alone
// ({"id":12}), or null if a key member is missing.
bytea *key_of_line(const ArchiveTable *table, const char *line, const json::MemberValue *members) {
    size_t len = 2;
    for (int i = 0; i < table->key_count; i++) {
        if (!members[i].present)
            return nullptr;
        len += strlen(table->members[i]) + 4 + members[i].length;
    }
    bytea *key = static_cast<bytea *>(palloc(VARHDRSZ + len));
    char *out = VARDATA(key);
    *out++ = '{';
    for (int i = 0; i < table->key_count; i++) {
        if (i > 0)
            *out++ = ',';
        size_t name_len = strlen(table->members[i]);
        *out++ = '"';
        memcpy(out, table->members[i], name_len);
        out += name_len;
        *out++ = '"';
        *out++ = ':';
        memcpy(out, line + members[i].begin, members[i].length);
        out += members[i].length;
    }
    *out++ = '}';
    SET_VARSIZE(key, VARHDRSZ + (out - VARDATA(key)));
    return key;
}

// Digests (SHA-256, first 16 bytes) of count pieces of text.
void digest_all(const char *text, const uint64 *offsets, const uint32 *lengths, int count,
                uint64 (*digests)[2]) {
    CoreFailure failure = run_core([&] {
        for (int i = 0; i < count; i++) {
            crypto::Sha256Digest d = crypto::sha256(text + offsets[i], lengths[i]);
            memcpy(digests[i], d.data(), sizeof(digests[i]));
        }
    });
    if (failure.failed)
        raise_core_failure(failure, ERROR);
}

void line_context(void *arg) {
    Verify *v = static_cast<Verify *>(arg);
    if (v->current_key)
        errcontext("line %llu of backup object \"%s\"", (unsigned long long) v->current_line,
                   v->current_key);
}

bool is_export_key(const char *key) {
    const char *file = strrchr(key, '/');
    return strstr(file ? file : key, "_export_") != nullptr;
}

void remember_key(Verify *v, size_t object, const char *key) {
    if (object >= size_t(v->object_slots)) {
        int slots = Max(int(object) + 1, v->object_slots * 2);
        char **keys = static_cast<char **>(palloc0(sizeof(char *) * slots));
        if (v->object_keys) {
            memcpy(keys, v->object_keys, sizeof(char *) * v->object_slots);
            pfree(v->object_keys);
        }
        v->object_keys = keys;
        v->object_slots = slots;
    }
    if (v->object_keys[object] == nullptr)
        v->object_keys[object] = pstrdup(key);
}

// The row a line reads back as, as text (record_out).
char *line_row_text(Verify *v, const char *line, int len, bool nul_escape) {
    Datum row = line_to_record(v->line_record, line, len, nul_escape);
    return OidOutputFunctionCall(F_RECORD_OUT, row);
}

// --- the backup side -------------------------------------------------------

void stage_lines(Verify *v, const archive::EventView &e) {
    MemoryContext caller = MemoryContextSwitchTo(v->batch_context);
    v->current_key = archive_stored_key(v->read, e.key);
    Datum values[line_columns];
    bool nulls[line_columns] = {};
    values[line_object] = Int32GetDatum(int32(e.object));
    values[line_source] = Int16GetDatum(is_export_key(e.key) ? 1 : 0);
    int count = int(e.line_count);
    bool *keep = static_cast<bool *>(palloc(sizeof(bool) * Max(count, 1)));
    // Without a key, each line is compared as the row it reads back as.
    uint64 *offsets = nullptr;
    uint32 *lengths = nullptr;
    uint64(*digests)[2] = nullptr;
    StringInfoData texts;
    if (!v->by_key) {
        offsets = static_cast<uint64 *>(palloc0(sizeof(uint64) * Max(count, 1)));
        lengths = static_cast<uint32 *>(palloc0(sizeof(uint32) * Max(count, 1)));
        digests = static_cast<uint64(*)[2]>(palloc(sizeof(uint64[2]) * Max(count, 1)));
        initStringInfo(&texts);
    }
    for (int i = 0; i < count; i++) {
        const archive::LineInfo &info = e.lines[i];
        const json::MemberValue *members = e.members + size_t(i) * e.member_count;
        const char *line = e.text + info.offset;
        v->current_line = info.number;
        keep[i] = info.time == archive::TimeState::parsed ||
                  time_in_range(v->time_filter, line, members[v->time_member]);
        if (!keep[i] || v->by_key)
            continue;
        char *text = line_row_text(v, line, int(info.length), info.nul_escape);
        offsets[i] = uint64(texts.len);
        lengths[i] = uint32(strlen(text));
        appendBinaryStringInfo(&texts, text, int(lengths[i]));
    }
    if (!v->by_key)
        digest_all(texts.data, offsets, lengths, count, digests);
    for (int i = 0; i < count; i++) {
        if (!keep[i])
            continue;
        const archive::LineInfo &info = e.lines[i];
        values[line_number] = Int64GetDatum(int64(info.number));
        if (v->by_key) {
            bytea *key = key_of_line(v->table, e.text + info.offset,
                                     e.members + size_t(i) * e.member_count);
            nulls[line_key] = key == nullptr;
            values[line_key] = PointerGetDatum(key);
            values[line_d1] = Int64GetDatum(int64(info.digest[0]));
            values[line_d2] = Int64GetDatum(int64(info.digest[1]));
        } else {
            nulls[line_key] = true;
            values[line_d1] = Int64GetDatum(int64(digests[i][0]));
            values[line_d2] = Int64GetDatum(int64(digests[i][1]));
        }
        staging_put(v->lines, values, nulls);
    }
    v->current_key = nullptr;
    MemoryContextSwitchTo(caller);
    MemoryContextReset(v->batch_context);
}

void object_event(Verify *v, const archive::EventView &e) {
    switch (e.kind) {
    case archive::EventKind::object_done:
        v->result.objects_read++;
        v->result.bytes_read += int64(e.object_bytes);
        break;
    case archive::EventKind::object_corrupt:
        v->result.objects_read++;
        v->result.bytes_read += int64(e.object_bytes);
        v->result.corrupt_objects++;
        v->corrupt = lappend_int(v->corrupt, int(e.object));
        ereport(WARNING, (errcode(ERRCODE_DATA_CORRUPTED),
                          errmsg("backup object \"%s\" is corrupt: %s",
                                 archive_stored_key(v->read, e.key), e.reason),
                          errdetail("Its rows do not count as backed up.")));
        break;
    case archive::EventKind::object_lost:
        ereport(WARNING, (errcode(ERRCODE_UNDEFINED_FILE),
                          errmsg("backup object \"%s\" is missing: %s",
                                 archive_stored_key(v->read, e.key), e.reason)));
        break;
    default:
        break;
    }
}

// --- the table side --------------------------------------------------------

const char *qualified_table(const ArchiveTable *table) {
    return quote_qualified_identifier(get_namespace_name(get_rel_namespace(table->relid)),
                                      get_rel_name(table->relid));
}

// Partitions' rows are backed up as their partitioned table's; an inheritance
// child's are not.
const char *only(const ArchiveTable *table) {
    return get_rel_relkind(table->relid) == RELKIND_RELATION ? "ONLY " : "";
}

Portal open_table_rows(Verify *v, const char *select_list) {
    StringInfoData query;
    initStringInfo(&query);
    const char *column = quote_identifier(v->table->time_column);
    appendStringInfo(&query, "SELECT %s FROM %s%s x WHERE x.%s >= $1 AND x.%s < $2", select_list,
                     only(v->table), qualified_table(v->table), column, column);
    Oid types[2] = {TIMESTAMPTZOID, TIMESTAMPTZOID};
    Datum values[2] = {TimestampTzGetDatum(v->start), TimestampTzGetDatum(v->end)};
    return SPI_cursor_open_with_args(nullptr, query.data, 2, types, values, nullptr, true,
                                     CURSOR_OPT_NO_SCROLL);
}

void open_table_side(Verify *v) {
    v->table_rows = open_table_rows(v, v->by_key ? "x.*, x.tableoid, x.ctid" : "x::pg_catalog.text");
    v->row_context =
        AllocSetContextCreate(CurrentMemoryContext, "convoy_backup verify row", ALLOCSET_DEFAULT_SIZES);
}

// The encoders, made from the cursor's first rows: the whole row, and its
// key columns alone.
void prepare_encoders(Verify *v, TupleDesc desc) {
    int columns = desc->natts - 2;
    TupleDesc row_desc = CreateTupleDescCopy(desc);
    row_desc->natts = columns;
    v->row_encoder = create_row_encoder(row_desc);
    TupleDesc key_desc = CreateTemplateTupleDesc(v->table->key_count);
    v->key_positions = static_cast<int *>(palloc(sizeof(int) * v->table->key_count));
    for (int i = 0; i < v->table->key_count; i++) {
        const char *name = get_attname(v->table->relid, v->table->key_attnums[i], false);
        int position = SPI_fnumber(desc, name);
        if (position <= 0 || position > columns)
            elog(ERROR, "key column \"%s\" not found in the rows of table %s", name, v->table->display);
        v->key_positions[i] = position - 1;
        TupleDescCopyEntry(key_desc, AttrNumber(i + 1), desc, AttrNumber(position));
    }
    v->key_encoder = create_row_encoder(key_desc);
}

// Stages the next rows of the table; false once there are no more.
bool stage_table_batch(Verify *v) {
    CHECK_FOR_INTERRUPTS();
    SPI_cursor_fetch(v->table_rows, true, rows_per_fetch);
    uint64 fetched = SPI_processed;
    if (fetched == 0) {
        SPI_cursor_close(v->table_rows);
        v->table_done = true;
        return false;
    }
    SPITupleTable *tuples = SPI_tuptable;
    TupleDesc desc = tuples->tupdesc;
    if (v->by_key && v->row_encoder == nullptr)
        prepare_encoders(v, desc);
    MemoryContext caller = MemoryContextSwitchTo(v->batch_context);
    StringInfoData lines;
    initStringInfo(&lines);
    uint64 *offsets = static_cast<uint64 *>(palloc(sizeof(uint64) * fetched));
    uint32 *lengths = static_cast<uint32 *>(palloc(sizeof(uint32) * fetched));
    uint64(*digests)[2] = static_cast<uint64(*)[2]>(palloc(sizeof(uint64[2]) * fetched));
    Datum row[row_columns];
    bool row_nulls[row_columns] = {};
    if (v->by_key) {
        int columns = desc->natts - 2;
        Datum *values = static_cast<Datum *>(palloc(sizeof(Datum) * desc->natts));
        bool *nulls = static_cast<bool *>(palloc(sizeof(bool) * desc->natts));
        Datum *key_values = static_cast<Datum *>(palloc(sizeof(Datum) * v->table->key_count));
        bool *key_nulls = static_cast<bool *>(palloc(sizeof(bool) * v->table->key_count));
        bytea **keys = static_cast<bytea **>(palloc(sizeof(bytea *) * fetched));
        Datum *tableoids = static_cast<Datum *>(palloc(sizeof(Datum) * fetched));
        Datum *ctids = static_cast<Datum *>(palloc(sizeof(Datum) * fetched));
        StringInfoData key;
        initStringInfo(&key);
        for (uint64 i = 0; i < fetched; i++) {
            heap_deform_tuple(tuples->vals[i], desc, values, nulls);
            for (int k = 0; k < v->table->key_count; k++) {
                key_values[k] = values[v->key_positions[k]];
                key_nulls[k] = nulls[v->key_positions[k]];
            }
            offsets[i] = uint64(lines.len);
            resetStringInfo(&key);
            // Output functions allocate: a context reset after each row.
            MemoryContext batch = MemoryContextSwitchTo(v->row_context);
            encode_row(v->row_encoder, &lines, values, nulls);
            encode_row(v->key_encoder, &key, key_values, key_nulls);
            MemoryContextSwitchTo(batch);
            MemoryContextReset(v->row_context);
            lengths[i] = uint32(uint64(lines.len) - offsets[i]);
            keys[i] = static_cast<bytea *>(palloc(VARHDRSZ + key.len));
            SET_VARSIZE(keys[i], VARHDRSZ + key.len);
            memcpy(VARDATA(keys[i]), key.data, key.len);
            tableoids[i] = values[columns];
            ctids[i] = values[columns + 1];
        }
        digest_all(lines.data, offsets, lengths, int(fetched), digests);
        for (uint64 i = 0; i < fetched; i++) {
            row[row_key] = PointerGetDatum(keys[i]);
            row[row_d1] = Int64GetDatum(int64(digests[i][0]));
            row[row_d2] = Int64GetDatum(int64(digests[i][1]));
            row[row_tableoid] = tableoids[i];
            row[row_ctid] = ctids[i];
            staging_put(v->rows, row, row_nulls);
        }
    } else {
        for (uint64 i = 0; i < fetched; i++) {
            bool isnull;
            text *row_text = DatumGetTextPP(SPI_getbinval(tuples->vals[i], desc, 1, &isnull));
            offsets[i] = uint64(lines.len);
            lengths[i] = uint32(VARSIZE_ANY_EXHDR(row_text));
            appendBinaryStringInfo(&lines, VARDATA_ANY(row_text), int(lengths[i]));
        }
        digest_all(lines.data, offsets, lengths, int(fetched), digests);
        row_nulls[row_key] = row_nulls[row_tableoid] = row_nulls[row_ctid] = true;
        for (uint64 i = 0; i < fetched; i++) {
            row[row_d1] = Int64GetDatum(int64(digests[i][0]));
            row[row_d2] = Int64GetDatum(int64(digests[i][1]));
            staging_put(v->rows, row, row_nulls);
        }
    }
    MemoryContextSwitchTo(caller);
    MemoryContextReset(v->batch_context);
    SPI_freetuptable(tuples);
    v->rows_staged += fetched;
    return true;
}

// Reads the backup, and the table whenever the reader thread has nothing
// ready, until both are staged.
void stage_both(Verify *v) {
    ErrorContextCallback context{error_context_stack, line_context, v};
    error_context_stack = &context;
    archive::EventView e;
    for (;;) {
        ReadStep step = poll_archive_event(v->read, &e, v->table_done ? poll_ms : 0);
        if (step == ReadStep::event) {
            remember_key(v, e.object, e.key);
            if (e.kind == archive::EventKind::lines)
                stage_lines(v, e);
            else
                object_event(v, e);
        } else if (!v->table_done) {
            stage_table_batch(v);
        } else if (step == ReadStep::finished) {
            break;
        }
    }
    error_context_stack = context.previous;
}

// --- comparing -------------------------------------------------------------

Datum corrupt_array(Verify *v) {
    int count = list_length(v->corrupt);
    Datum *items = static_cast<Datum *>(palloc(sizeof(Datum) * Max(count, 1)));
    int i = 0;
    ListCell *cell;
    foreach (cell, v->corrupt)
        items[i++] = Int32GetDatum(lfirst_int(cell));
    return PointerGetDatum(construct_array(items, count, INT4OID, 4, true, TYPALIGN_INT));
}

int64 int64_column(int column) {
    bool isnull;
    Datum value = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, column, &isnull);
    return isnull ? 0 : DatumGetInt64(value);
}

void select_one_row(const char *query, int nargs, Oid *types, Datum *values) {
    int rc = SPI_execute_with_args(query, nargs, types, values, nullptr, true, 1);
    if (rc != SPI_OK_SELECT || SPI_processed != 1)
        elog(ERROR, "counting the rows of the backup failed: %s", SPI_result_code_string(rc));
}

// Counts by key. A key's lines agree with its row when every copy has the
// row's digest; the keys where some copy does not are counted in "differing"
// and looked at again by compare_differing().
void count_by_key(Verify *v, Datum corrupt, int64 *differing) {
    const char *query =
        "WITH b AS (SELECT k,"
        "                  GREATEST(pg_catalog.count(*) FILTER (WHERE src OPERATOR(pg_catalog.=) 0),"
        "                                      pg_catalog.count(*) FILTER (WHERE src OPERATOR(pg_catalog.=) 1)) AS copies,"
        "                  pg_catalog.min(d1) AS a1, pg_catalog.max(d1) AS b1,"
        "                  pg_catalog.min(d2) AS a2, pg_catalog.max(d2) AS b2"
        "             FROM convoy_backup_lines"
        "            WHERE k IS NOT NULL AND o OPERATOR(pg_catalog.<>) ALL ($1)"
        "            GROUP BY k)"
        " SELECT pg_catalog.count(t.k),"
        "        pg_catalog.count(b.k)"
        "          OPERATOR(pg_catalog.+) (SELECT pg_catalog.count(*) FROM convoy_backup_lines"
        "              WHERE k IS NULL AND o OPERATOR(pg_catalog.<>) ALL ($1)),"
        "        pg_catalog.count(*) FILTER (WHERE b.k IS NULL),"
        "        pg_catalog.count(*) FILTER (WHERE b.copies OPERATOR(pg_catalog.>) 1),"
        "        pg_catalog.count(*) FILTER (WHERE t.k IS NOT NULL AND b.k IS NOT NULL"
        "            AND NOT (b.a1 OPERATOR(pg_catalog.=) t.d1 AND b.b1 OPERATOR(pg_catalog.=) t.d1"
        "                 AND b.a2 OPERATOR(pg_catalog.=) t.d2 AND b.b2 OPERATOR(pg_catalog.=) t.d2))"
        "   FROM b FULL JOIN convoy_backup_table_rows t ON t.k OPERATOR(pg_catalog.=) b.k";
    Oid types[1] = {INT4ARRAYOID};
    Datum values[1] = {corrupt};
    select_one_row(query, 1, types, values);
    v->result.rows_in_table = int64_column(1);
    v->result.rows_in_backup = int64_column(2);
    v->result.missing = int64_column(3);
    v->result.duplicated = int64_column(4);
    *differing = int64_column(5);
}

// The lines of one object read a second time, in order.
struct Reread {
    ArchiveRead *read;
    archive::EventView batch;
    size_t next; // in batch
    bool ended;
};

// The line numbered `number` of the object being read again, or false if
// the object no longer holds it (it changed since).
bool reread_line(Reread *r, uint64 number, const char **line, int *len, bool *nul_escape) {
    for (;;) {
        while (r->next < r->batch.line_count) {
            const archive::LineInfo &info = r->batch.lines[r->next];
            if (info.number > number)
                return false;
            r->next++;
            if (info.number == number) {
                *line = r->batch.text + info.offset;
                *len = int(info.length);
                *nul_escape = info.nul_escape;
                return true;
            }
        }
        if (r->ended)
            return false;
        archive::EventView e;
        if (!next_archive_event(r->read, &e)) {
            r->ended = true;
            return false;
        }
        if (e.kind == archive::EventKind::lines) {
            r->batch = e;
            r->next = 0;
        } else if (e.kind != archive::EventKind::object_done) {
            r->ended = true; // corrupt or lost now: nothing more to compare
        }
    }
}

// The copies whose digest is not their row's, object by object, line by line:
// each line is read again, read back with the table's row type and compared
// with its row as text. A key counts as mismatched if any copy differs.
void compare_differing(Verify *v, Datum corrupt) {
    Staging *diffs = create_staging("convoy_backup_differences", diffs_desc(),
                                    Max(setting_read_memory_kb / 4, 64));
    register_staging(diffs);
    StringInfoData query;
    initStringInfo(&query);
    const char *column = quote_identifier(v->table->time_column);
    appendStringInfo(&query,
                     "SELECT s.o, s.l, s.k, x::pg_catalog.text"
                     "  FROM convoy_backup_lines s"
                     "  JOIN convoy_backup_table_rows t ON t.k OPERATOR(pg_catalog.=) s.k"
                     "  JOIN %s%s x ON x.tableoid OPERATOR(pg_catalog.=) t.toid"
                     "             AND x.ctid OPERATOR(pg_catalog.=) t.tid"
                     " WHERE NOT (s.d1 OPERATOR(pg_catalog.=) t.d1 AND s.d2 OPERATOR(pg_catalog.=) t.d2)"
                     "   AND s.o OPERATOR(pg_catalog.<>) ALL ($1)"
                     "   AND x.%s >= $2 AND x.%s < $3"
                     " ORDER BY s.o, s.l",
                     only(v->table), qualified_table(v->table), column, column);
    Oid types[3] = {INT4ARRAYOID, TIMESTAMPTZOID, TIMESTAMPTZOID};
    Datum args[3] = {corrupt, TimestampTzGetDatum(v->start), TimestampTzGetDatum(v->end)};
    Portal portal = SPI_cursor_open_with_args(nullptr, query.data, 3, types, args, nullptr, true,
                                              CURSOR_OPT_NO_SCROLL);
    Reread reread{};
    int object = -1;
    uint64 compared = 0;
    ErrorContextCallback context{error_context_stack, line_context, v};
    error_context_stack = &context;
    for (;;) {
        CHECK_FOR_INTERRUPTS();
        SPI_cursor_fetch(portal, true, rows_per_fetch);
        uint64 fetched = SPI_processed;
        if (fetched == 0)
            break;
        SPITupleTable *tuples = SPI_tuptable;
        for (uint64 i = 0; i < fetched; i++) {
            bool isnull;
            HeapTuple tuple = tuples->vals[i];
            int o = DatumGetInt32(SPI_getbinval(tuple, tuples->tupdesc, 1, &isnull));
            uint64 l = uint64(DatumGetInt64(SPI_getbinval(tuple, tuples->tupdesc, 2, &isnull)));
            Datum key = SPI_getbinval(tuple, tuples->tupdesc, 3, &isnull);
            text *row_text = DatumGetTextPP(SPI_getbinval(tuple, tuples->tupdesc, 4, &isnull));
            if (o != object) {
                if (reread.read)
                    finish_archive_read(reread.read);
                ArchiveReadRequest request{v->table,
                                           unix_micros_saturating(v->start),
                                           unix_micros_saturating(v->end),
                                           v->table->members + v->table->time_member,
                                           1,
                                           0,
                                           false,
                                           function_name,
                                           &v->object_keys[o],
                                           1};
                reread = Reread{};
                reread.read = start_archive_read(request);
                object = o;
            }
            const char *line;
            int len;
            bool nul_escape;
            bool differs = true;
            MemoryContext caller = MemoryContextSwitchTo(v->batch_context);
            if (reread_line(&reread, l, &line, &len, &nul_escape)) {
                v->current_key = archive_stored_key(reread.read, v->object_keys[o]);
                v->current_line = l;
                char *backup_text = line_row_text(v, line, len, nul_escape);
                size_t row_len = VARSIZE_ANY_EXHDR(row_text);
                differs = strlen(backup_text) != row_len ||
                          memcmp(backup_text, VARDATA_ANY(row_text), row_len) != 0;
                v->current_key = nullptr;
            }
            MemoryContextSwitchTo(caller);
            MemoryContextReset(v->batch_context);
            Datum values[diff_columns] = {key, BoolGetDatum(differs)};
            bool nulls[diff_columns] = {false, false};
            staging_put(diffs, values, nulls);
        }
        SPI_freetuptable(tuples);
        compared += fetched;
        archive_progress(v->read, "comparing the rows whose lines differ from them", compared);
    }
    error_context_stack = context.previous;
    SPI_cursor_close(portal);
    if (reread.read)
        finish_archive_read(reread.read);
    select_one_row("SELECT pg_catalog.count(*) FROM (SELECT k FROM convoy_backup_differences"
                   " GROUP BY k HAVING pg_catalog.bool_or(differs)) d",
                   0, nullptr, nullptr);
    v->result.mismatched = int64_column(1);
    tuplestore_end(diffs->store);
}

// Without a key: rows are matched as a multiset of their text. For each text,
// m rows in the table and c copies in the source that has most: min(c, m)
// rows are backed up, c - max(m, 1) copies too many (a copied object), m - c
// rows missing.
void count_whole_rows(Verify *v, Datum corrupt) {
    const char *query =
        "WITH s AS (SELECT d1, d2, src, pg_catalog.count(*) AS n FROM convoy_backup_lines"
        "            WHERE o OPERATOR(pg_catalog.<>) ALL ($1) GROUP BY d1, d2, src),"
        "     b AS (SELECT d1, d2, pg_catalog.max(n) AS c FROM s GROUP BY d1, d2),"
        "     t AS (SELECT d1, d2, pg_catalog.count(*) AS m FROM convoy_backup_table_rows"
        "            GROUP BY d1, d2),"
        "     j AS (SELECT COALESCE(b.c, 0) AS c, COALESCE(t.m, 0) AS m"
        "             FROM b FULL JOIN t ON b.d1 OPERATOR(pg_catalog.=) t.d1"
        "                               AND b.d2 OPERATOR(pg_catalog.=) t.d2)"
        " SELECT pg_catalog.sum(m)::pg_catalog.int8,"
        "        pg_catalog.sum(LEAST(c, GREATEST(m, 1)))::pg_catalog.int8,"
        "        pg_catalog.sum(GREATEST(m OPERATOR(pg_catalog.-) c, 0))::pg_catalog.int8,"
        "        pg_catalog.sum(GREATEST(c OPERATOR(pg_catalog.-)"
        "                                           GREATEST(m, 1), 0))::pg_catalog.int8"
        "   FROM j";
    Oid types[1] = {INT4ARRAYOID};
    Datum values[1] = {corrupt};
    select_one_row(query, 1, types, values);
    v->result.rows_in_table = int64_column(1);
    v->result.rows_in_backup = int64_column(2);
    v->result.missing = int64_column(3);
    v->result.duplicated = int64_column(4);
    v->result.mismatched = 0;
}

} // namespace

} // namespace convoy::pg

extern "C" {

PG_FUNCTION_INFO_V1(convoy_backup_verify);

Datum convoy_backup_verify(PG_FUNCTION_ARGS) {
    using namespace convoy::pg;
    Oid relid;
    TimestampTz start, end;
    read_range_arguments(fcinfo, function_name, &relid, &start, &end);
    require_operator(function_name);
    check_database_encoding();
    TupleDesc result_desc;
    if (get_call_result_type(fcinfo, nullptr, &result_desc) != TYPEFUNC_COMPOSITE)
        elog(ERROR, "return type must be a row type");

    Verify *v = static_cast<Verify *>(palloc0(sizeof(Verify)));
    v->table = resolve_archive_table(relid, function_name);
    require_select(v->table);
    v->start = start;
    v->end = end;
    v->by_key = v->table->key_count > 0;
    v->time_member = v->by_key ? v->table->time_member : 0;
    v->batch_context =
        AllocSetContextCreate(CurrentMemoryContext, "convoy_backup verify batch", ALLOCSET_DEFAULT_SIZES);
    int settings = pin_read_settings();
    v->time_filter = create_time_filter(v->table, start, end);
    v->line_record = create_line_record(get_rel_type_id(relid));
    // A quarter of read_memory for each side's staging; the reader thread
    // takes the rest (see archive_read.cpp).
    int staging_kb = Max(setting_read_memory_kb / 4, 64);
    v->lines = create_staging("convoy_backup_lines", lines_desc(), staging_kb);
    v->rows = create_staging("convoy_backup_table_rows", rows_desc(), staging_kb);

    // With a key, lines are matched by its members; without, by the whole row.
    ArchiveReadRequest request{v->table,
                               unix_micros_saturating(start),
                               unix_micros_saturating(end),
                               v->by_key ? v->table->members : v->table->members + v->table->time_member,
                               v->by_key ? v->table->member_count : 1,
                               v->by_key ? v->table->time_member : 0,
                               v->by_key,
                               function_name,
                               nullptr,
                               0};
    v->read = start_archive_read(request);
    if (SPI_connect() != SPI_OK_CONNECT)
        elog(ERROR, "SPI_connect failed");
    register_staging(v->lines);
    register_staging(v->rows);
    open_table_side(v);
    stage_both(v);
    finish_archive_read(v->read);

    Datum corrupt = corrupt_array(v);
    if (v->by_key) {
        int64 differing = 0;
        count_by_key(v, corrupt, &differing);
        if (differing > 0)
            compare_differing(v, corrupt);
    } else {
        count_whole_rows(v, corrupt);
    }
    SPI_finish();
    tuplestore_end(v->lines->store);
    tuplestore_end(v->rows->store);
    unpin_read_settings(settings);

    const VerifyResult &r = v->result;
    Datum values[9] = {Int64GetDatum(r.rows_in_table), Int64GetDatum(r.rows_in_backup),
                       Int64GetDatum(r.missing),       Int64GetDatum(r.duplicated),
                       Int64GetDatum(r.mismatched),    Int64GetDatum(r.objects_read),
                       Int64GetDatum(r.bytes_read),    Int64GetDatum(r.corrupt_objects),
                       BoolGetDatum(r.missing == 0 && r.mismatched == 0 && r.corrupt_objects == 0)};
    bool nulls[9] = {};
    HeapTuple tuple = heap_form_tuple(BlessTupleDesc(result_desc), values, nulls);
    PG_RETURN_DATUM(HeapTupleGetDatum(tuple));
}

}
