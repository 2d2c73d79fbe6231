// convoy_backup_verify(table, start, end): reads back every object that can
// hold rows of the table in [start, end) and compares its lines with the
// table's rows of that range.
//
// The lines in range wait in one staging relation (object, line number,
// source, key, digest, the line), the table's rows in another (key, digest of
// the row as the row encoder writes it, where it is); SQL joins the two. A row
// whose line is byte for byte what the encoder makes of it matches; the few
// others are compared again as rows (the line read back with the row type,
// both sides as text), so that a line written with other settings (say
// extra_float_digits 3) still matches. A table without a primary key is
// compared row by row that way: each line is read back as a row, and rows are
// matched as a multiset of their text.
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
constexpr const char *lines_name = "convoy_backup_lines";
constexpr const char *rows_name = "convoy_backup_table_rows";
constexpr long rows_per_fetch = 1000;

enum LineColumn { line_object, line_number, line_source, line_key, line_d1, line_d2, line_text, line_columns };
enum RowColumn { row_key, row_d1, row_d2, row_tableoid, row_ctid, row_columns };

struct VerifyResult {
    int64 rows_in_table, rows_in_backup, missing, duplicated, mismatched;
    int64 objects_read, bytes_read, corrupt_objects;
};

struct Verify {
    ArchiveTable *table;
    TimestampTz start, end;
    bool by_key; // the table has a primary key
    ArchiveRead *read;
    Staging *lines;
    Staging *rows;
    LineRecord *line_record; // by_key false: lines back into rows
    TimeFilter *time_filter;
    MemoryContext batch_context;
    List *corrupt; // object numbers (int) whose lines do not count
    VerifyResult result;
    // Scratch for the table side's key members.
    uint8_t *depth_stack;
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
    TupleDescInitEntry(desc, line_text + 1, "line", BYTEAOID, -1, 0);
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

bytea *make_bytea(const char *data, size_t len) {
    bytea *value = static_cast<bytea *>(palloc(VARHDRSZ + len));
    SET_VARSIZE(value, VARHDRSZ + len);
    memcpy(VARDATA(value), data, len);
    return value;
}

// The key of a line: the raw text of its key members joined by ',' (a JSON
// array's inside, so never ambiguous), or null if one is missing.
bytea *key_of_line(const char *line, const json::MemberValue *members, int key_count) {
    size_t len = 0;
    for (int i = 0; i < key_count; i++) {
        if (!members[i].present)
            return nullptr;
        len += members[i].length + 1;
    }
    bytea *key = static_cast<bytea *>(palloc(VARHDRSZ + len));
    char *out = VARDATA(key);
    for (int i = 0; i < key_count; i++) {
        if (i > 0)
            *out++ = ',';
        memcpy(out, line + members[i].begin, members[i].length);
        out += members[i].length;
    }
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

// --- the backup side -------------------------------------------------------

void stage_lines(Verify *v, const archive::EventView &e) {
    MemoryContext caller = MemoryContextSwitchTo(v->batch_context);
    int16 source = is_export_key(e.key) ? 1 : 0;
    char *stored = archive_stored_key(v->read, e.key);
    v->current_key = stored;
    Datum values[line_columns];
    bool nulls[line_columns] = {};
    values[line_object] = Int32GetDatum(int32(e.object));
    values[line_source] = Int16GetDatum(source);

    // Without a key, each line is compared as the row it reads back as.
    uint64 *offsets = nullptr;
    uint32 *lengths = nullptr;
    uint64(*digests)[2] = nullptr;
    StringInfoData texts;
    bool *keep = static_cast<bool *>(palloc(sizeof(bool) * Max(e.line_count, 1)));
    if (!v->by_key) {
        offsets = static_cast<uint64 *>(palloc(sizeof(uint64) * Max(e.line_count, 1)));
        lengths = static_cast<uint32 *>(palloc(sizeof(uint32) * Max(e.line_count, 1)));
        digests = static_cast<uint64(*)[2]>(palloc(sizeof(uint64[2]) * Max(e.line_count, 1)));
        initStringInfo(&texts);
    }
    for (size_t i = 0; i < e.line_count; i++) {
        const archive::LineInfo &info = e.lines[i];
        const json::MemberValue *members = e.members + i * e.member_count;
        const char *line = e.text + info.offset;
        v->current_line = info.number;
        keep[i] = info.time == archive::TimeState::parsed ||
                  time_in_range(v->time_filter, line, members[e.member_count - 1]);
        if (!keep[i] || v->by_key)
            continue;
        Datum row = line_to_record(v->line_record, line, int(info.length), info.nul_escape);
        char *text = OidOutputFunctionCall(F_RECORD_OUT, row);
        offsets[i] = uint64(texts.len);
        lengths[i] = uint32(strlen(text));
        appendBinaryStringInfo(&texts, text, int(lengths[i]));
    }
    if (!v->by_key) {
        // Only the lines kept have texts; the others get a digest of nothing.
        for (size_t i = 0; i < e.line_count; i++)
            if (!keep[i])
                offsets[i] = 0, lengths[i] = 0;
        digest_all(texts.data, offsets, lengths, int(e.line_count), digests);
    }
    for (size_t i = 0; i < e.line_count; i++) {
        if (!keep[i])
            continue;
        const archive::LineInfo &info = e.lines[i];
        const json::MemberValue *members = e.members + i * e.member_count;
        const char *line = e.text + info.offset;
        values[line_number] = Int64GetDatum(int64(info.number));
        if (v->by_key) {
            bytea *key = key_of_line(line, members, v->table->key_count);
            nulls[line_key] = key == nullptr;
            values[line_key] = PointerGetDatum(key);
            values[line_d1] = Int64GetDatum(int64(info.digest[0]));
            values[line_d2] = Int64GetDatum(int64(info.digest[1]));
            values[line_text] = PointerGetDatum(make_bytea(line, info.length));
            nulls[line_text] = false;
        } else {
            nulls[line_key] = true;
            nulls[line_text] = true;
            values[line_d1] = Int64GetDatum(int64(digests[i][0]));
            values[line_d2] = Int64GetDatum(int64(digests[i][1]));
        }
        staging_put(v->lines, values, nulls);
    }
    v->current_key = nullptr;
    MemoryContextSwitchTo(caller);
    MemoryContextReset(v->batch_context);
}

void read_backup(Verify *v) {
    ErrorContextCallback context{error_context_stack, line_context, v};
    error_context_stack = &context;
    archive::EventView e;
    while (next_archive_event(v->read, &e)) {
        switch (e.kind) {
        case archive::EventKind::lines:
            stage_lines(v, e);
            break;
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
                              errdetail("Its rows are not counted as backed up.")));
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
    error_context_stack = context.previous;
}

// --- the table side --------------------------------------------------------

const char *qualified_table(const ArchiveTable *table) {
    return quote_qualified_identifier(get_namespace_name(get_rel_namespace(table->relid)),
                                      get_rel_name(table->relid));
}

Portal open_table_rows(Verify *v, const char *select_list) {
    StringInfoData query;
    initStringInfo(&query);
    const char *column = quote_identifier(v->table->time_column);
    // Partitions' rows are backed up as their partitioned table's; an
    // inheritance child's are not.
    bool only = get_rel_relkind(v->table->relid) == RELKIND_RELATION;
    appendStringInfo(&query, "SELECT %s FROM %s%s x WHERE x.%s >= $1 AND x.%s < $2", select_list,
                     only ? "ONLY " : "", qualified_table(v->table), column, column);
    Oid types[2] = {TIMESTAMPTZOID, TIMESTAMPTZOID};
    Datum values[2] = {TimestampTzGetDatum(v->start), TimestampTzGetDatum(v->end)};
    return SPI_cursor_open_with_args(nullptr, query.data, 2, types, values, nullptr, true,
                                     CURSOR_OPT_NO_SCROLL);
}

// Each row as the row encoder writes it: its key, its digest and where it is.
void stage_table_rows_by_key(Verify *v) {
    Portal portal = open_table_rows(v, "x.*, x.tableoid, x.ctid");
    RowEncoder *encoder = nullptr;
    MemoryContext row_context =
        AllocSetContextCreate(CurrentMemoryContext, "convoy_backup verify row", ALLOCSET_DEFAULT_SIZES);
    const int key_count = v->table->key_count;
    std::string_view *names = static_cast<std::string_view *>(palloc(sizeof(std::string_view) * key_count));
    for (int i = 0; i < key_count; i++)
        names[i] = std::string_view(v->table->members[i]);
    json::MemberValue *members =
        static_cast<json::MemberValue *>(palloc(sizeof(json::MemberValue) * (key_count + 1)));
    uint64 staged = 0;
    for (;;) {
        CHECK_FOR_INTERRUPTS();
        SPI_cursor_fetch(portal, true, rows_per_fetch);
        uint64 fetched = SPI_processed;
        if (fetched == 0)
            break;
        SPITupleTable *tuples = SPI_tuptable;
        TupleDesc desc = tuples->tupdesc;
        int columns = desc->natts - 2;
        if (encoder == nullptr) {
            TupleDesc row_desc = CreateTupleDescCopy(desc);
            row_desc->natts = columns;
            encoder = create_row_encoder(row_desc);
        }
        MemoryContext caller = MemoryContextSwitchTo(v->batch_context);
        Datum *values = static_cast<Datum *>(palloc(sizeof(Datum) * desc->natts));
        bool *nulls = static_cast<bool *>(palloc(sizeof(bool) * desc->natts));
        StringInfoData text;
        initStringInfo(&text);
        uint64 *offsets = static_cast<uint64 *>(palloc(sizeof(uint64) * fetched));
        uint32 *lengths = static_cast<uint32 *>(palloc(sizeof(uint32) * fetched));
        Datum *tableoids = static_cast<Datum *>(palloc(sizeof(Datum) * fetched));
        Datum *ctids = static_cast<Datum *>(palloc(sizeof(Datum) * fetched));
        for (uint64 i = 0; i < fetched; i++) {
            heap_deform_tuple(tuples->vals[i], desc, values, nulls);
            offsets[i] = uint64(text.len);
            MemoryContext batch = MemoryContextSwitchTo(row_context);
            encode_row(encoder, &text, values, nulls);
            MemoryContextSwitchTo(batch);
            MemoryContextReset(row_context);
            lengths[i] = uint32(uint64(text.len) - offsets[i]);
            tableoids[i] = values[columns];
            ctids[i] = values[columns + 1];
        }
        uint64(*digests)[2] = static_cast<uint64(*)[2]>(palloc(sizeof(uint64[2]) * fetched));
        digest_all(text.data, offsets, lengths, int(fetched), digests);
        Datum row[row_columns];
        bool row_nulls[row_columns] = {};
        for (uint64 i = 0; i < fetched; i++) {
            const char *line = text.data + offsets[i];
            json::LineScan scan = json::scan_line(std::string_view(line, lengths[i]), names,
                                                  size_t(key_count), members, v->depth_stack);
            if (!scan.valid)
                elog(ERROR, "the row encoder wrote a line that is not valid JSON: %s", scan.error);
            bytea *key = key_of_line(line, members, key_count);
            row_nulls[row_key] = key == nullptr;
            row[row_key] = PointerGetDatum(key);
            row[row_d1] = Int64GetDatum(int64(digests[i][0]));
            row[row_d2] = Int64GetDatum(int64(digests[i][1]));
            row[row_tableoid] = tableoids[i];
            row[row_ctid] = ctids[i];
            staging_put(v->rows, row, row_nulls);
        }
        MemoryContextSwitchTo(caller);
        MemoryContextReset(v->batch_context);
        SPI_freetuptable(tuples);
        staged += fetched;
        archive_progress(v->read, "reading the table's rows", staged);
    }
    SPI_cursor_close(portal);
    if (encoder)
        free_row_encoder(encoder);
    MemoryContextDelete(row_context);
}

// Each row's text, as a digest.
void stage_table_rows_whole(Verify *v) {
    Portal portal = open_table_rows(v, "x::pg_catalog.text");
    uint64 staged = 0;
    for (;;) {
        CHECK_FOR_INTERRUPTS();
        SPI_cursor_fetch(portal, true, rows_per_fetch);
        uint64 fetched = SPI_processed;
        if (fetched == 0)
            break;
        SPITupleTable *tuples = SPI_tuptable;
        MemoryContext caller = MemoryContextSwitchTo(v->batch_context);
        StringInfoData texts;
        initStringInfo(&texts);
        uint64 *offsets = static_cast<uint64 *>(palloc(sizeof(uint64) * fetched));
        uint32 *lengths = static_cast<uint32 *>(palloc(sizeof(uint32) * fetched));
        for (uint64 i = 0; i < fetched; i++) {
            bool isnull;
            Datum value = SPI_getbinval(tuples->vals[i], tuples->tupdesc, 1, &isnull);
            text *row_text = DatumGetTextPP(value);
            offsets[i] = uint64(texts.len);
            lengths[i] = uint32(VARSIZE_ANY_EXHDR(row_text));
            appendBinaryStringInfo(&texts, VARDATA_ANY(row_text), int(lengths[i]));
        }
        uint64(*digests)[2] = static_cast<uint64(*)[2]>(palloc(sizeof(uint64[2]) * fetched));
        digest_all(texts.data, offsets, lengths, int(fetched), digests);
        Datum row[row_columns];
        bool row_nulls[row_columns] = {true, false, false, true, true};
        for (uint64 i = 0; i < fetched; i++) {
            row[row_d1] = Int64GetDatum(int64(digests[i][0]));
            row[row_d2] = Int64GetDatum(int64(digests[i][1]));
            staging_put(v->rows, row, row_nulls);
        }
        MemoryContextSwitchTo(caller);
        MemoryContextReset(v->batch_context);
        SPI_freetuptable(tuples);
        staged += fetched;
        archive_progress(v->read, "reading the table's rows", staged);
    }
    SPI_cursor_close(portal);
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

// Counts by key. A key's lines agree with its row when every copy has the
// row's digest; the keys where some copy does not are counted in "differing"
// and looked at again by compare_differing().
void count_by_key(Verify *v, Datum corrupt, int64 *differing) {
    const char *query =
        "WITH s AS (SELECT k, src, pg_catalog.count(*) AS n,"
        "                  pg_catalog.min(d1) AS a1, pg_catalog.max(d1) AS b1,"
        "                  pg_catalog.min(d2) AS a2, pg_catalog.max(d2) AS b2"
        "             FROM convoy_backup_lines"
        "            WHERE k IS NOT NULL AND o OPERATOR(pg_catalog.<>) ALL ($1)"
        "            GROUP BY k, src),"
        "     b AS (SELECT k, pg_catalog.max(n) AS copies,"
        "                  pg_catalog.min(a1) AS a1, pg_catalog.max(b1) AS b1,"
        "                  pg_catalog.min(a2) AS a2, pg_catalog.max(b2) AS b2"
        "             FROM s GROUP BY k)"
        " SELECT pg_catalog.count(t.k),"
        "        pg_catalog.count(b.k)"
        "          + (SELECT pg_catalog.count(*) FROM convoy_backup_lines"
        "              WHERE k IS NULL AND o OPERATOR(pg_catalog.<>) ALL ($1)),"
        "        pg_catalog.count(*) FILTER (WHERE b.k IS NULL),"
        "        pg_catalog.count(*) FILTER (WHERE b.copies OPERATOR(pg_catalog.>) 1),"
        "        pg_catalog.count(*) FILTER (WHERE t.k IS NOT NULL AND b.k IS NOT NULL"
        "            AND NOT (b.a1 OPERATOR(pg_catalog.=) t.d1 AND b.b1 OPERATOR(pg_catalog.=) t.d1"
        "                 AND b.a2 OPERATOR(pg_catalog.=) t.d2 AND b.b2 OPERATOR(pg_catalog.=) t.d2))"
        "   FROM b FULL JOIN convoy_backup_table_rows t ON t.k OPERATOR(pg_catalog.=) b.k";
    Oid types[1] = {INT4ARRAYOID};
    Datum values[1] = {corrupt};
    int rc = SPI_execute_with_args(query, 1, types, values, nullptr, true, 1);
    if (rc != SPI_OK_SELECT || SPI_processed != 1)
        elog(ERROR, "counting the rows by key failed: %s", SPI_result_code_string(rc));
    v->result.rows_in_table = int64_column(1);
    v->result.rows_in_backup = int64_column(2);
    v->result.missing = int64_column(3);
    v->result.duplicated = int64_column(4);
    *differing = int64_column(5);
}

// The copies whose digest is not their row's: read back with the table's row
// type, each is compared with its row as text. A key counts as mismatched if
// any of its copies differs.
void compare_differing(Verify *v, Datum corrupt) {
    StringInfoData query;
    initStringInfo(&query);
    const char *column = quote_identifier(v->table->time_column);
    appendStringInfo(&query,
                     "SELECT c.k, c.line, x::pg_catalog.text"
                     "  FROM (SELECT s.k, s.line, t.toid, t.tid"
                     "          FROM convoy_backup_lines s"
                     "          JOIN convoy_backup_table_rows t ON t.k OPERATOR(pg_catalog.=) s.k"
                     "         WHERE NOT (s.d1 OPERATOR(pg_catalog.=) t.d1"
                     "                AND s.d2 OPERATOR(pg_catalog.=) t.d2)"
                     "           AND s.o OPERATOR(pg_catalog.<>) ALL ($1)) c"
                     "  JOIN %s%s x ON x.tableoid OPERATOR(pg_catalog.=) c.toid"
                     "             AND x.ctid OPERATOR(pg_catalog.=) c.tid"
                     " WHERE x.%s >= $2 AND x.%s < $3"
                     " ORDER BY c.k",
                     get_rel_relkind(v->table->relid) == RELKIND_RELATION ? "ONLY " : "",
                     qualified_table(v->table), column, column);
    Oid types[3] = {INT4ARRAYOID, TIMESTAMPTZOID, TIMESTAMPTZOID};
    Datum values[3] = {corrupt, TimestampTzGetDatum(v->start), TimestampTzGetDatum(v->end)};
    Portal portal = SPI_cursor_open_with_args(nullptr, query.data, 3, types, values, nullptr, true,
                                              CURSOR_OPT_NO_SCROLL);
    bytea *previous = nullptr;
    bool previous_differs = false;
    uint64 seen = 0;
    MemoryContext key_context =
        AllocSetContextCreate(CurrentMemoryContext, "convoy_backup verify key", ALLOCSET_SMALL_SIZES);
    for (;;) {
        CHECK_FOR_INTERRUPTS();
        SPI_cursor_fetch(portal, true, rows_per_fetch);
        uint64 fetched = SPI_processed;
        if (fetched == 0)
            break;
        SPITupleTable *tuples = SPI_tuptable;
        for (uint64 i = 0; i < fetched; i++) {
            bool isnull;
            bytea *key = DatumGetByteaPP(SPI_getbinval(tuples->vals[i], tuples->tupdesc, 1, &isnull));
            bytea *line = DatumGetByteaPP(SPI_getbinval(tuples->vals[i], tuples->tupdesc, 2, &isnull));
            text *row_text = DatumGetTextPP(SPI_getbinval(tuples->vals[i], tuples->tupdesc, 3, &isnull));
            bool same_key = previous != nullptr &&
                            VARSIZE_ANY_EXHDR(previous) == VARSIZE_ANY_EXHDR(key) &&
                            memcmp(VARDATA_ANY(previous), VARDATA_ANY(key), VARSIZE_ANY_EXHDR(key)) == 0;
            if (!same_key) {
                if (previous_differs)
                    v->result.mismatched++;
                MemoryContextReset(key_context);
                previous = static_cast<bytea *>(MemoryContextAlloc(key_context, VARSIZE_ANY(key)));
                memcpy(previous, key, VARSIZE_ANY(key));
                previous_differs = false;
            }
            if (previous_differs)
                continue;
            MemoryContext caller = MemoryContextSwitchTo(v->batch_context);
            const char *json = VARDATA_ANY(line);
            int len = int(VARSIZE_ANY_EXHDR(line));
            bool nul_escape = memmem(json, size_t(len), "\\u0000", 6) != nullptr;
            Datum row = line_to_record(v->line_record, json, len, nul_escape);
            char *backup_text = OidOutputFunctionCall(F_RECORD_OUT, row);
            size_t row_len = VARSIZE_ANY_EXHDR(row_text);
            previous_differs = strlen(backup_text) != row_len ||
                               memcmp(backup_text, VARDATA_ANY(row_text), row_len) != 0;
            MemoryContextSwitchTo(caller);
            MemoryContextReset(v->batch_context);
        }
        SPI_freetuptable(tuples);
        seen += fetched;
        archive_progress(v->read, "comparing rows whose lines differ from them", seen);
    }
    if (previous_differs)
        v->result.mismatched++;
    SPI_cursor_close(portal);
    MemoryContextDelete(key_context);
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
        "        pg_catalog.sum(pg_catalog.least(c, pg_catalog.greatest(m, 1)))::pg_catalog.int8,"
        "        pg_catalog.sum(pg_catalog.greatest(m OPERATOR(pg_catalog.-) c, 0))::pg_catalog.int8,"
        "        pg_catalog.sum(pg_catalog.greatest(c OPERATOR(pg_catalog.-)"
        "                                           pg_catalog.greatest(m, 1), 0))::pg_catalog.int8"
        "   FROM j";
    Oid types[1] = {INT4ARRAYOID};
    Datum values[1] = {corrupt};
    int rc = SPI_execute_with_args(query, 1, types, values, nullptr, true, 1);
    if (rc != SPI_OK_SELECT || SPI_processed != 1)
        elog(ERROR, "counting the rows failed: %s", SPI_result_code_string(rc));
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
    v->depth_stack = static_cast<uint8_t *>(palloc(convoy::json::max_scan_depth));
    v->batch_context =
        AllocSetContextCreate(CurrentMemoryContext, "convoy_backup verify batch", ALLOCSET_DEFAULT_SIZES);
    int settings = pin_read_settings();
    v->time_filter = create_time_filter(v->table, start, end);
    v->line_record = create_line_record(get_rel_type_id(relid));
    int memory_kb = Max(setting_read_memory_kb / 2, 64);
    v->lines = create_staging(lines_name, lines_desc(), memory_kb);
    v->rows = create_staging(rows_name, rows_desc(), memory_kb);

    ArchiveReadRequest request{v->table, unix_micros_saturating(start), unix_micros_saturating(end),
                               v->by_key, v->by_key, function_name};
    v->read = start_archive_read(request);
    read_backup(v);

    if (SPI_connect() != SPI_OK_CONNECT)
        elog(ERROR, "SPI_connect failed");
    register_staging(v->lines);
    register_staging(v->rows);
    if (v->by_key)
        stage_table_rows_by_key(v);
    else
        stage_table_rows_whole(v);
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
    finish_archive_read(v->read);
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
