// PostgreSQL-style code (palloc, no RAII): ERRORs of the conversion longjmp out.
#include "pg/archive/line_record.hpp"

extern "C" {
#include "catalog/pg_type.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "nodes/makefuncs.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
}

namespace convoy::pg {

struct LineRecord {
    Oid rowtype;
    FmgrInfo populate; // json_populate_record(NULL::rowtype, line)
    FmgrInfo record_in;
    FmgrInfo record_out;
    bool convert; // the database encoding is not UTF-8
};

namespace {

Datum populate(LineRecord *c, const char *json, int len) {
    text *value = cstring_to_text_with_len(json, len);
    LOCAL_FCINFO(fcinfo, 2);
    InitFunctionCallInfoData(*fcinfo, &c->populate, 2, InvalidOid, nullptr, nullptr);
    fcinfo->args[0].value = (Datum) 0;
    fcinfo->args[0].isnull = true;
    fcinfo->args[1].value = PointerGetDatum(value);
    fcinfo->args[1].isnull = false;
    Datum row = FunctionCallInvoke(fcinfo);
    if (fcinfo->isnull)
        elog(ERROR, "json_populate_record returned null");
    return row;
}

bool contains(const char *s, int len, const char *what) {
    return memmem(s, size_t(len), what, strlen(what)) != nullptr;
}

// An escape \u000n (n in 1..7) that the line neither holds nor could make
// appear in the row's text, or 0 if there is none.
int pick_stand_in(const char *line, int len) {
    if (contains(line, len, "\\u0075") || contains(line, len, "\\u0030"))
        return 0;
    for (int n = 1; n <= 7; n++) {
        char bare[] = {'u', '0', '0', '0', char('0' + n), '\0'};
        char digit[] = {'\\', 'u', '0', '0', '3', char('0' + n), '\0'};
        if (!contains(line, len, bare) && !contains(line, len, digit))
            return n;
    }
    return 0;
}

// The line with each escape \u0000 written as \u000n. A valid JSON line holds
// backslashes only in escapes, so walking escape by escape finds them all.
char *with_stand_in(const char *line, int len, int n) {
    char *out = static_cast<char *>(palloc(size_t(len) + 1));
    for (int i = 0; i < len;) {
        out[i] = line[i];
        if (line[i] != '\\' || i + 1 >= len) {
            i++;
            continue;
        }
        out[i + 1] = line[i + 1];
        if (line[i + 1] == 'u' && i + 5 < len && memcmp(line + i + 2, "0000", 4) == 0) {
            memcpy(out + i + 2, "000", 3);
            out[i + 5] = char('0' + n);
            i += 6;
        } else if (line[i + 1] == 'u' && i + 5 < len) {
            memcpy(out + i + 2, line + i + 2, 4);
            i += 6;
        } else {
            i += 2;
        }
    }
    out[len] = '\0';
    return out;
}

// Replaces every "u000n" with "u0000" in place.
void restore_nul_escapes(char *text, int n) {
    char stand_in[] = {'u', '0', '0', '0', char('0' + n), '\0'};
    for (char *at = strstr(text, stand_in); at != nullptr; at = strstr(at + 5, stand_in))
        at[4] = '0';
}

} // namespace

LineRecord *create_line_record(Oid rowtype) {
    LineRecord *c = static_cast<LineRecord *>(palloc0(sizeof(LineRecord)));
    c->rowtype = rowtype;
    fmgr_info(F_JSON_POPULATE_RECORD, &c->populate);
    // json_populate_record() learns the row type from its first argument's
    // declared type, as in a query.
    c->populate.fn_expr = reinterpret_cast<Node *>(
        makeFuncExpr(F_JSON_POPULATE_RECORD, rowtype,
                     list_make2(makeNullConst(rowtype, -1, InvalidOid),
                                makeNullConst(JSONOID, -1, InvalidOid)),
                     InvalidOid, InvalidOid, COERCE_EXPLICIT_CALL));
    fmgr_info(F_RECORD_IN, &c->record_in);
    fmgr_info(F_RECORD_OUT, &c->record_out);
    c->convert = GetDatabaseEncoding() != PG_UTF8;
    return c;
}

Datum line_to_record(LineRecord *c, const char *line, int len, bool nul_escape) {
    if (c->convert) {
        line = pg_any_to_server(line, len, PG_UTF8);
        len = int(strlen(line));
    }
    if (!nul_escape)
        return populate(c, line, len);
    int n = pick_stand_in(line, len);
    if (n == 0)
        ereport(ERROR, (errcode(ERRCODE_UNTRANSLATABLE_CHARACTER),
                        errmsg("line holds \\u0000 and every escape that could stand in for it"),
                        errdetail("A json value may hold the escape \\u0000, which PostgreSQL's "
                                  "json functions cannot read; the line is read with another "
                                  "escape in its place, and this line holds all of them.")));
    Datum row = populate(c, with_stand_in(line, len, n), len);
    char *text = OutputFunctionCall(&c->record_out, row);
    restore_nul_escapes(text, n);
    return InputFunctionCall(&c->record_in, text, c->rowtype, -1);
}

} // namespace convoy::pg
