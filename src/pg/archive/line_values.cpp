// PostgreSQL-style code (palloc, no RAII): input functions' ERRORs longjmp out.
#include "core/json/json_text.hpp"
#include "core/json/json_unescape.hpp"

#include "pg/archive/archive_target.hpp"
#include "pg/archive/line_record.hpp"
#include "pg/archive/line_values.hpp"

extern "C" {
#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/typcache.h"
}

namespace convoy::pg {

namespace {

struct ColumnInput {
    AttrNumber attnum;
    bool json_target; // json or jsonb: a string value is handed over quoted
    FmgrInfo input;
    Oid ioparam;
    int32 typmod;
};

struct StringInfoAppender {
    StringInfo out;
    void append(const char *data, size_t len) { appendBinaryStringInfo(out, data, int(len)); }
};

// json_populate_record reads a value of these types its own way: a domain
// checks its constraints (also for a missing member), arrays and composites
// are built from JSON arrays and objects.
bool scalar_type(Oid type) {
    char typtype = get_typtype(type);
    if (typtype == TYPTYPE_DOMAIN || typtype == TYPTYPE_COMPOSITE || type == RECORDOID)
        return false;
    return !type_is_array(type);
}

} // namespace

struct LineValues {
    int count;
    ColumnInput *columns;
    char **members;
    bool fast;           // the shortcut applies to this table at all
    LineRecord *record;  // the other way
    TupleDesc desc;      // the table's row type
    Datum *fields;       // scratch for the other way
    bool *field_nulls;
    char *text;          // scratch: one value's unescaped text
    size_t text_size;
    StringInfoData quoted;
};

LineValues *create_line_values(Oid relid, int column_count, const AttrNumber *columns) {
    LineValues *lv = static_cast<LineValues *>(palloc0(sizeof(LineValues)));
    lv->count = column_count;
    lv->columns = static_cast<ColumnInput *>(palloc0(sizeof(ColumnInput) * Max(column_count, 1)));
    lv->members = static_cast<char **>(palloc(sizeof(char *) * Max(column_count, 1)));
    lv->fast = GetDatabaseEncoding() == PG_UTF8;
    for (int i = 0; i < column_count; i++) {
        ColumnInput &c = lv->columns[i];
        c.attnum = columns[i];
        Oid type, collation;
        get_atttypetypmodcoll(relid, c.attnum, &type, &c.typmod, &collation);
        lv->members[i] = json_member_name(get_attname(relid, c.attnum, false));
        if (!scalar_type(type)) {
            lv->fast = false;
            continue;
        }
        c.json_target = type == JSONOID || type == JSONBOID;
        Oid input;
        getTypeInputInfo(type, &input, &c.ioparam);
        fmgr_info(input, &c.input);
    }
    Oid rowtype = get_rel_type_id(relid);
    lv->record = create_line_record(rowtype);
    lv->desc = lookup_rowtype_tupdesc_copy(rowtype, -1);
    lv->fields = static_cast<Datum *>(palloc(sizeof(Datum) * Max(lv->desc->natts, 1)));
    lv->field_nulls = static_cast<bool *>(palloc(sizeof(bool) * Max(lv->desc->natts, 1)));
    initStringInfo(&lv->quoted);
    return lv;
}

char **line_values_members(LineValues *lv) { return lv->members; }

namespace {

// The whole line through json_populate_record, then the columns picked.
void record_to_values(LineValues *lv, const char *line, int len, bool nul_escape, Datum *values,
                      bool *nulls) {
    Datum row = line_to_record(lv->record, line, len, nul_escape);
    HeapTupleHeader header = DatumGetHeapTupleHeader(row);
    HeapTupleData tuple;
    tuple.t_len = HeapTupleHeaderGetDatumLength(header);
    ItemPointerSetInvalid(&tuple.t_self);
    tuple.t_tableOid = InvalidOid;
    tuple.t_data = header;
    heap_deform_tuple(&tuple, lv->desc, lv->fields, lv->field_nulls);
    for (int i = 0; i < lv->count; i++) {
        values[i] = lv->fields[lv->columns[i].attnum - 1];
        nulls[i] = lv->field_nulls[lv->columns[i].attnum - 1];
    }
}

// The text json_populate_record hands a column's input function for the JSON
// string body: unescaped (and quoted again for json and jsonb). False if
// PostgreSQL itself must say what is wrong with it.
bool string_text(LineValues *lv, const ColumnInput &c, const char *body, size_t len, char **text) {
    if (lv->text_size < len + 1) {
        lv->text_size = Max(len + 1, lv->text_size * 2);
        lv->text = static_cast<char *>(MemoryContextAlloc(GetMemoryChunkContext(lv), lv->text_size));
    }
    size_t out_len;
    if (!json::unescape_string(std::string_view(body, len), lv->text, out_len))
        return false;
    lv->text[out_len] = '\0';
    if (!c.json_target) {
        *text = lv->text;
        return true;
    }
    resetStringInfo(&lv->quoted);
    StringInfoAppender out{&lv->quoted};
    json::append_string(out, std::string_view(lv->text, out_len));
    *text = lv->quoted.data;
    return true;
}

} // namespace

void line_to_values(LineValues *lv, const char *line, int len, const json::MemberValue *members,
                    bool nul_escape, bool escaped_key, Datum *values, bool *nulls) {
    if (!lv->fast || nul_escape || escaped_key) {
        record_to_values(lv, line, len, nul_escape, values, nulls);
        return;
    }
    for (int i = 0; i < lv->count; i++) {
        const ColumnInput &c = lv->columns[i];
        const json::MemberValue &m = members[i];
        const char *raw = line + m.begin;
        if (!m.present || (m.length == 4 && memcmp(raw, "null", 4) == 0)) {
            values[i] = (Datum) 0;
            nulls[i] = true;
            continue;
        }
        char *text;
        if (raw[0] == '"') {
            if (!string_text(lv, c, raw + 1, m.length - 2, &text)) {
                record_to_values(lv, line, len, nul_escape, values, nulls);
                return;
            }
        } else {
            text = pnstrdup(raw, m.length);
        }
        values[i] = InputFunctionCall(const_cast<FmgrInfo *>(&c.input), text, c.ioparam, c.typmod);
        nulls[i] = false;
    }
}

} // namespace convoy::pg
