// The least and greatest value of a table's time column among some rows, in
// microseconds since the Unix epoch (UTC): what a manifest records as time_min
// and time_max. Plain data (zeroed means "no value yet"), so that it can live
// in shared memory next to the rows it describes.
#pragma once

extern "C" {
#include "postgres.h"
}

namespace convoy::pg {

struct TimeRange {
    bool seen; // false until a non-null value was noted
    int64 min_micros;
    int64 max_micros;
};

inline void time_range_note(TimeRange *range, int64 micros) {
    if (!range->seen) {
        range->seen = true;
        range->min_micros = range->max_micros = micros;
    } else if (micros < range->min_micros) {
        range->min_micros = micros;
    } else if (micros > range->max_micros) {
        range->max_micros = micros;
    }
}

inline void time_range_merge(TimeRange *into, const TimeRange &from) {
    if (from.seen) {
        time_range_note(into, from.min_micros);
        time_range_note(into, from.max_micros);
    }
}

} // namespace convoy::pg
