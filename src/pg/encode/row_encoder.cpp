// The row encoder: PostgreSQL Datums to JSON text, following to_jsonb()'s rules
// (PostgreSQL 15's src/backend/utils/adt/jsonb.c, jsonb_categorize_type and
// datum_to_jsonb), in UTF-8 whatever the database encoding.
//
// PostgreSQL-style code (palloc, StringInfo, no RAII): an ERROR raised by an
// output function may longjmp out of here without skipping any destructor.
#include "core/json/json_text.hpp"

#include "pg/common/pg_compat.hpp"
#include "pg/common/unix_time.hpp"
#include "pg/encode/database_encoding.hpp"
#include "pg/encode/row_encoder.hpp"

extern "C" {
#include "access/htup_details.h"
#include "access/transam.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "common/int.h"
#include "common/jsonapi.h"
#include "fmgr.h"
#include "mb/pg_wchar.h"
#include "parser/parse_coerce.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/datetime.h"
#include "utils/json.h"
#include "utils/jsonfuncs.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/typcache.h"
}

namespace convoy::pg {

namespace {

// How to_jsonb() renders a type (its "category"), plus fast paths of our own
// for types whose JSON text we can write without the output function.
enum class JsonKind : uint8 {
    boolean,
    integer,     // int2/int4/int8: always a JSON number
    number,      // float4/float8/numeric: a number, or a string for NaN/Infinity
    date,
    timestamp,
    timestamptz,
    json,        // embedded as written
    json_cast,   // not built in, with a cast to json: the cast's result, embedded
    jsonb,       // embedded via jsonb's output
    text,        // text/varchar/bpchar: the stored string, escaped
    bytea,       // "\\x..." hex
    array,
    composite,
    other,       // the type's output text as a JSON string
};

struct Fields;

struct TypeCodec {
    JsonKind kind;
    Oid base_type;
    FmgrInfo output; // valid for number/jsonb/other; the cast function for json_cast
    // Arrays only: the element type, its storage, and (lazily) its codec.
    Oid element_type;
    int16 element_len;
    bool element_byval;
    char element_align;
    TypeCodec *element;
    // Composites only (lazily): the fields of the row type whose typcache
    // tupdesc identifier is fields_id; rebuilt when the type changes.
    Fields *fields;
    uint64 fields_id;
    MemoryContext home; // where the codec and what it caches live: the encoder's context
};

struct ColumnCodec {
    bool dropped;
    char *key; // "name": (escaped, with the colon)
    int key_len;
    TypeCodec type;
};

// The columns of a table, or the fields of a composite type.
struct Fields {
    int count;
    ColumnCodec *columns;
};

// Adapts a StringInfo to the core's JSON primitives. appendBinaryStringInfo may
// ERROR (out of memory); the primitives own nothing, so the longjmp is safe.
struct StringInfoAppender {
    StringInfo out;
    void append(const char *data, size_t len) { appendBinaryStringInfo(out, data, static_cast<int>(len)); }
};

// Lines are UTF-8. Text comes in the database encoding: in a UTF-8 database it
// is copied as it is; otherwise each string is converted once, on its way into
// the line, by the encoding's default conversion to UTF-8. Which of the two is
// decided once per process (its database, so its encoding, never changes), when
// the first encoder is created.
struct Utf8Conversion {
    bool decided;
    bool needed;
    int from;      // the database encoding
    FmgrInfo proc; // its default conversion to UTF-8
    char *buffer;  // one converted piece
};
Utf8Conversion utf8;

// Source bytes per conversion call: at least MAX_CONVERSION_INPUT_LENGTH, so a
// piece always holds a whole character, and bounded, so the buffer is small.
constexpr int conversion_piece = 8192;
static_assert(conversion_piece >= MAX_CONVERSION_INPUT_LENGTH);

void decide_utf8_conversion() {
    if (utf8.decided)
        return;
    int encoding = GetDatabaseEncoding();
    if (encoding != PG_UTF8) {
        check_database_encoding(); // SQL_ASCII: nothing to convert from
        Oid proc = FindDefaultConversionProc(encoding, PG_UTF8);
        if (!OidIsValid(proc))
            ereport(ERROR, (errcode(ERRCODE_UNDEFINED_FUNCTION),
                            errmsg("default conversion function for encoding \"%s\" to \"%s\" does not exist",
                                   pg_encoding_to_char(encoding), pg_encoding_to_char(PG_UTF8))));
        fmgr_info_cxt(proc, &utf8.proc, TopMemoryContext);
        utf8.buffer = static_cast<char *>(
            MemoryContextAlloc(TopMemoryContext, conversion_piece * MAX_CONVERSION_GROWTH + 1));
        utf8.from = encoding;
        utf8.needed = true;
    }
    utf8.decided = true;
}

// Calls emit(data, len) with text of the database encoding as UTF-8: the text
// itself in a UTF-8 database, else its conversion, piece by piece.
template <class Emit>
void as_utf8(const char *data, size_t len, Emit &&emit) {
    if (likely(!utf8.needed)) {
        emit(data, len);
        return;
    }
    // ASCII is the same in every server encoding: a leading run needs no call.
    size_t ascii = 0;
    while (ascii < len && !IS_HIGHBIT_SET(data[ascii]))
        ascii++;
    if (ascii > 0)
        emit(data, ascii);
    data += ascii;
    len -= ascii;
    while (len > 0) {
        int piece = static_cast<int>(Min(len, size_t(conversion_piece)));
        Datum source = CStringGetDatum(const_cast<char *>(data));
        int converted = DatumGetInt32(FunctionCall6(
            &utf8.proc, Int32GetDatum(utf8.from), Int32GetDatum(PG_UTF8), source,
            CStringGetDatum(utf8.buffer), Int32GetDatum(piece), BoolGetDatum(true)));
        if (converted <= 0) {
            // The first character is invalid or has no UTF-8 equivalent: the
            // conversion, asked to, reports which.
            FunctionCall6(&utf8.proc, Int32GetDatum(utf8.from), Int32GetDatum(PG_UTF8), source,
                          CStringGetDatum(utf8.buffer), Int32GetDatum(piece), BoolGetDatum(false));
            elog(ERROR, "could not convert text from encoding \"%s\" to UTF-8",
                 pg_encoding_to_char(utf8.from));
        }
        emit(utf8.buffer, strlen(utf8.buffer));
        data += converted;
        len -= size_t(converted);
    }
}

// The cast to_jsonb() applies to a type that is not built in: an explicit cast
// function to json (not jsonb), else none.
Oid json_cast_function(Oid base) {
    if (base < FirstNormalObjectId)
        return InvalidOid;
    Oid function = InvalidOid;
    if (find_coercion_pathway(JSONOID, base, COERCION_EXPLICIT, &function) != COERCION_PATH_FUNC)
        return InvalidOid;
    return function;
}

// Decides, once per type, how its values are written. Allocates in codec->home.
void init_type_codec(TypeCodec *codec, Oid type, MemoryContext home) {
    memset(codec, 0, sizeof(*codec));
    codec->home = home;
    Oid base = getBaseType(type);
    codec->base_type = base;
    switch (base) {
    case BOOLOID: codec->kind = JsonKind::boolean; return;
    case INT2OID:
    case INT4OID:
    case INT8OID: codec->kind = JsonKind::integer; return;
    case FLOAT4OID:
    case FLOAT8OID:
    case NUMERICOID: codec->kind = JsonKind::number; break;
    case DATEOID: codec->kind = JsonKind::date; return;
    case TIMESTAMPOID: codec->kind = JsonKind::timestamp; return;
    case TIMESTAMPTZOID: codec->kind = JsonKind::timestamptz; return;
    case JSONOID: codec->kind = JsonKind::json; return;
    case JSONBOID: codec->kind = JsonKind::jsonb; break;
    case TEXTOID:
    case VARCHAROID:
    case BPCHAROID: codec->kind = JsonKind::text; return;
    case BYTEAOID: codec->kind = JsonKind::bytea; return;
    default:
        if (OidIsValid(get_element_type(base))) {
            codec->kind = JsonKind::array;
            codec->element_type = get_element_type(base);
            get_typlenbyvalalign(codec->element_type, &codec->element_len, &codec->element_byval,
                                 &codec->element_align);
            return;
        }
        if (type_is_rowtype(base)) {
            codec->kind = JsonKind::composite;
            return;
        }
        if (Oid cast = json_cast_function(base); OidIsValid(cast)) {
            codec->kind = JsonKind::json_cast;
            fmgr_info_cxt(cast, &codec->output, home);
            return;
        }
        codec->kind = JsonKind::other;
        break;
    }
    Oid output_fn;
    bool is_varlena;
    getTypeOutputInfo(base, &output_fn, &is_varlena);
    fmgr_info_cxt(output_fn, &codec->output, home);
}

// A JSON string of ASCII text (numbers' and dates' output).
void append_escaped(StringInfo out, const char *data, size_t len) {
    StringInfoAppender appender{out};
    json::append_string(appender, std::string_view(data, len));
}

// A JSON string of text in the database encoding.
void append_server_string(StringInfo out, const char *data, size_t len) {
    appendStringInfoChar(out, '"');
    as_utf8(data, len, [out](const char *piece, size_t piece_len) {
        StringInfoAppender appender{out};
        json::append_string_body(appender, std::string_view(piece, piece_len));
    });
    appendStringInfoChar(out, '"');
}

// Keys and codecs for the attributes of desc, allocated in home.
Fields *init_fields(TupleDesc desc, MemoryContext home) {
    MemoryContext caller = MemoryContextSwitchTo(home);
    Fields *fields = static_cast<Fields *>(palloc0(sizeof(Fields)));
    fields->count = desc->natts;
    fields->columns = static_cast<ColumnCodec *>(palloc0(sizeof(ColumnCodec) * Max(desc->natts, 1)));
    StringInfoData key;
    initStringInfo(&key);
    for (int i = 0; i < desc->natts; i++) {
        Form_pg_attribute att = TupleDescAttr(desc, i);
        ColumnCodec *column = &fields->columns[i];
        column->dropped = att->attisdropped;
        if (column->dropped)
            continue;
        resetStringInfo(&key);
        const char *name = NameStr(att->attname);
        append_server_string(&key, name, strlen(name));
        appendStringInfoChar(&key, ':');
        column->key = pnstrdup(key.data, key.len);
        column->key_len = key.len;
        init_type_codec(&column->type, att->atttypid, home);
    }
    pfree(key.data);
    MemoryContextSwitchTo(caller);
    return fields;
}

void append_value(StringInfo out, Datum value, TypeCodec *codec);

// {"key":value,...} of the non-dropped fields.
void append_object(StringInfo out, Fields *fields, const Datum *values, const bool *nulls) {
    appendStringInfoChar(out, '{');
    bool first = true;
    for (int i = 0; i < fields->count; i++) {
        ColumnCodec *column = &fields->columns[i];
        if (column->dropped)
            continue;
        if (!first)
            appendStringInfoChar(out, ',');
        first = false;
        appendBinaryStringInfo(out, column->key, column->key_len);
        if (nulls[i])
            appendBinaryStringInfo(out, "null", 4);
        else
            append_value(out, values[i], &column->type);
    }
    appendStringInfoChar(out, '}');
}

// Embeds json text of the database encoding; line breaks can only stand
// between tokens (a JSON string cannot hold a raw one), so turning them into
// spaces keeps the value intact.
void append_json_text(StringInfo out, const char *data, size_t len) {
    as_utf8(data, len, [out](const char *piece, size_t piece_len) {
        enlargeStringInfo(out, static_cast<int>(piece_len));
        for (size_t i = 0; i < piece_len; i++) {
            char c = piece[i];
            out->data[out->len++] = (c == '\n' || c == '\r') ? ' ' : c;
        }
        out->data[out->len] = '\0';
    });
}

// A cast's result is not json_in's: check it as to_jsonb() does by parsing it,
// so that a line is always valid JSON.
void append_json_cast(StringInfo out, Datum value, TypeCodec *codec) {
    text *json_text = DatumGetTextPP(FunctionCall1(&codec->output, value));
    pg_parse_json_or_ereport(json_lex_context(json_text, false), &nullSemAction);
    append_json_text(out, VARDATA_ANY(json_text), VARSIZE_ANY_EXHDR(json_text));
}

void append_array_dim(StringInfo out, int dim, int ndims, const int *dims, const Datum *values,
                      const bool *nulls, int *index, TypeCodec *element) {
    appendStringInfoChar(out, '[');
    for (int i = 0; i < dims[dim]; i++) {
        if (i > 0)
            appendStringInfoChar(out, ',');
        if (dim + 1 < ndims) {
            append_array_dim(out, dim + 1, ndims, dims, values, nulls, index, element);
        } else {
            if (nulls[*index])
                appendBinaryStringInfo(out, "null", 4);
            else
                append_value(out, values[*index], element);
            (*index)++;
        }
    }
    appendStringInfoChar(out, ']');
}

void append_array(StringInfo out, Datum value, TypeCodec *codec) {
    ArrayType *array = DatumGetArrayTypeP(value);
    int ndims = ARR_NDIM(array);
    int *dims = ARR_DIMS(array);
    if (ArrayGetNItems(ndims, dims) <= 0) {
        appendBinaryStringInfo(out, "[]", 2);
        return;
    }
    if (codec->element == nullptr) {
        TypeCodec *element = static_cast<TypeCodec *>(MemoryContextAlloc(codec->home, sizeof(TypeCodec)));
        init_type_codec(element, codec->element_type, codec->home);
        codec->element = element;
    }
    Datum *values;
    bool *nulls;
    int count;
    deconstruct_array(array, codec->element_type, codec->element_len, codec->element_byval,
                      codec->element_align, &values, &nulls, &count);
    int index = 0;
    append_array_dim(out, 0, ndims, dims, values, nulls, &index, codec->element);
}

void append_composite(StringInfo out, Datum value, TypeCodec *codec) {
    HeapTupleHeader header = DatumGetHeapTupleHeader(value);
    Oid type = HeapTupleHeaderGetTypeId(header);
    int32 typmod = HeapTupleHeaderGetTypMod(header);
    TupleDesc desc = lookup_rowtype_tupdesc(type, typmod);
    // Field codecs are kept for the type's current tupdesc, whose identifier
    // changes whenever the type does (ALTER TYPE ... ADD ATTRIBUTE).
    uint64 id = assign_record_type_identifier(type, typmod);
    if (codec->fields == nullptr || codec->fields_id != id) {
        codec->fields = init_fields(desc, codec->home);
        codec->fields_id = id;
    }
    HeapTupleData tuple;
    tuple.t_len = HeapTupleHeaderGetDatumLength(header);
    ItemPointerSetInvalid(&tuple.t_self);
    tuple.t_tableOid = InvalidOid;
    tuple.t_data = header;
    Datum *values = static_cast<Datum *>(palloc(sizeof(Datum) * Max(desc->natts, 1)));
    bool *nulls = static_cast<bool *>(palloc(sizeof(bool) * Max(desc->natts, 1)));
    heap_deform_tuple(&tuple, desc, values, nulls);
    append_object(out, codec->fields, values, nulls);
    pfree(values);
    pfree(nulls);
    ReleaseTupleDesc(desc);
}

void append_value(StringInfo out, Datum value, TypeCodec *codec) {
    switch (codec->kind) {
    case JsonKind::boolean:
        if (DatumGetBool(value))
            appendBinaryStringInfo(out, "true", 4);
        else
            appendBinaryStringInfo(out, "false", 5);
        return;
    case JsonKind::integer: {
        char digits[MAXINT8LEN + 1];
        int len;
        if (codec->base_type == INT8OID)
            len = pg_lltoa(DatumGetInt64(value), digits);
        else if (codec->base_type == INT4OID)
            len = pg_ltoa(DatumGetInt32(value), digits);
        else
            len = pg_ltoa(DatumGetInt16(value), digits);
        appendBinaryStringInfo(out, digits, len);
        return;
    }
    case JsonKind::number: {
        char *text = OutputFunctionCall(&codec->output, value);
        size_t len = strlen(text);
        if (json::is_json_number(std::string_view(text, len)))
            appendBinaryStringInfo(out, text, static_cast<int>(len));
        else
            append_escaped(out, text, len); // NaN, Infinity, -Infinity
        pfree(text);
        return;
    }
    case JsonKind::date:
    case JsonKind::timestamp:
    case JsonKind::timestamptz: {
        static const int utc_offset = 0;
        char buf[MAXDATELEN + 1];
        JsonEncodeDateTime(buf, value, codec->base_type,
                           codec->kind == JsonKind::timestamptz ? &utc_offset : nullptr);
        append_escaped(out, buf, strlen(buf));
        return;
    }
    case JsonKind::json: {
        text *json_text = DatumGetTextPP(value);
        append_json_text(out, VARDATA_ANY(json_text), VARSIZE_ANY_EXHDR(json_text));
        return;
    }
    case JsonKind::json_cast: append_json_cast(out, value, codec); return;
    case JsonKind::jsonb: {
        char *text = OutputFunctionCall(&codec->output, value);
        as_utf8(text, strlen(text), [out](const char *piece, size_t piece_len) {
            appendBinaryStringInfo(out, piece, static_cast<int>(piece_len));
        });
        pfree(text);
        return;
    }
    case JsonKind::text: {
        text *string = DatumGetTextPP(value);
        append_server_string(out, VARDATA_ANY(string), VARSIZE_ANY_EXHDR(string));
        return;
    }
    case JsonKind::bytea: {
        bytea *bytes = DatumGetByteaPP(value);
        StringInfoAppender appender{out};
        json::append_bytea_hex(appender, reinterpret_cast<const uint8_t *>(VARDATA_ANY(bytes)),
                               VARSIZE_ANY_EXHDR(bytes));
        return;
    }
    case JsonKind::array: append_array(out, value, codec); return;
    case JsonKind::composite: append_composite(out, value, codec); return;
    case JsonKind::other: {
        char *text = OutputFunctionCall(&codec->output, value);
        append_server_string(out, text, strlen(text));
        pfree(text);
        return;
    }
    }
}

// A time column's value in microseconds since the Unix epoch (UTC), for
// manifests. Infinite values become the ends of int64, which manifests spell
// "infinity" and "-infinity"; the few finite ones beyond int64's range (after
// 294246 AD) become the greatest finite value, which still bounds a range from
// above.
int64 time_value_micros(Datum value, Oid type) {
    int64 micros;
    if (type == DATEOID) {
        DateADT date = DatumGetDateADT(value);
        if (DATE_IS_NOBEGIN(date))
            return PG_INT64_MIN;
        if (DATE_IS_NOEND(date))
            return PG_INT64_MAX;
        if (pg_mul_s64_overflow(int64(date), USECS_PER_DAY, &micros) ||
            pg_add_s64_overflow(micros, postgres_epoch_in_unix_micros, &micros))
            return date < 0 ? PG_INT64_MIN + 1 : PG_INT64_MAX - 1;
        return micros;
    }
    Timestamp timestamp = DatumGetTimestamp(value); // timestamptz: the same int64
    if (TIMESTAMP_IS_NOBEGIN(timestamp))
        return PG_INT64_MIN;
    if (TIMESTAMP_IS_NOEND(timestamp))
        return PG_INT64_MAX;
    if (pg_add_s64_overflow(timestamp, postgres_epoch_in_unix_micros, &micros))
        return PG_INT64_MAX - 1;
    return micros;
}

// The attribute number - 1 of the time column of desc, and its base type; -1
// when there is no such column or it is not of a type with a time.
int find_time_column(TupleDesc desc, const char *name, Oid *type) {
    if (name == nullptr)
        return -1;
    for (int i = 0; i < desc->natts; i++) {
        Form_pg_attribute att = TupleDescAttr(desc, i);
        if (att->attisdropped || strcmp(NameStr(att->attname), name) != 0)
            continue;
        Oid base = getBaseType(att->atttypid);
        if (base != TIMESTAMPTZOID && base != TIMESTAMPOID && base != DATEOID)
            return -1;
        *type = base;
        return i;
    }
    return -1;
}

} // namespace

struct RowEncoder {
    MemoryContext context; // holds the encoder and everything its codecs cache
    Fields *columns;
    int time_index; // the time column (attnum - 1), or -1
    Oid time_type;  // its base type
};

RowEncoder *create_row_encoder(TupleDesc desc, const char *time_column) {
    decide_utf8_conversion();
    MemoryContext context =
        AllocSetContextCreate(CurrentMemoryContext, "convoy_backup row encoder", ALLOCSET_SMALL_SIZES);
    RowEncoder *encoder = static_cast<RowEncoder *>(MemoryContextAllocZero(context, sizeof(RowEncoder)));
    encoder->context = context;
    encoder->columns = init_fields(desc, context);
    encoder->time_index = find_time_column(desc, time_column, &encoder->time_type);
    return encoder;
}

void free_row_encoder(RowEncoder *encoder) {
    if (encoder != nullptr)
        MemoryContextDelete(encoder->context);
}

void encode_row(RowEncoder *encoder, StringInfo out, const Datum *values, const bool *nulls,
                TimeRange *times) {
    append_object(out, encoder->columns, values, nulls);
    int t = encoder->time_index;
    if (times != nullptr && t >= 0 && !nulls[t])
        time_range_note(times, time_value_micros(values[t], encoder->time_type));
}

} // namespace convoy::pg
