#include "pg/archive/time_filter.hpp"

extern "C" {
#include "catalog/pg_type.h"
#include "utils/date.h"
#include "utils/timestamp.h"
#include "utils/fmgrprotos.h"
#include "utils/lsyscache.h"
}

namespace convoy::pg {

struct TimeFilter {
    Oid type; // TIMESTAMPTZOID, TIMESTAMPOID or DATEOID
    FmgrInfo input;
    Oid ioparam;
    TimestampTz start, end;
};

TimeFilter *create_time_filter(const ArchiveTable *table, TimestampTz start, TimestampTz end) {
    TimeFilter *filter = static_cast<TimeFilter *>(palloc0(sizeof(TimeFilter)));
    filter->type = table->time_type;
    Oid input;
    getTypeInputInfo(filter->type, &input, &filter->ioparam);
    fmgr_info(input, &filter->input);
    filter->start = start;
    filter->end = end;
    return filter;
}

bool time_in_range(TimeFilter *filter, const char *line, const json::MemberValue &member) {
    if (!member.present)
        return false;
    const char *raw = line + member.begin;
    size_t len = member.length;
    if (len == 4 && memcmp(raw, "null", 4) == 0)
        return false;
    // A JSON string of a time holds no escape; anything else goes to the
    // type's input function as it is, which refuses it.
    if (len >= 2 && raw[0] == '"' && memchr(raw, '\\', len) == nullptr) {
        raw++;
        len -= 2;
    }
    char *text = pnstrdup(raw, len);
    Datum value = InputFunctionCall(&filter->input, text, filter->ioparam, -1);
    TimestampTz t;
    if (filter->type == TIMESTAMPOID)
        t = DatumGetTimestampTz(DirectFunctionCall1(timestamp_timestamptz, value));
    else if (filter->type == DATEOID)
        t = DatumGetTimestampTz(DirectFunctionCall1(date_timestamptz, value));
    else
        t = DatumGetTimestampTz(value);
    pfree(text);
    return t >= filter->start && t < filter->end;
}

} // namespace convoy::pg
