// PostgreSQL counts timestamps in microseconds from 2000-01-01 UTC, the core
// (object names, windows) from 1970-01-01 UTC: the one conversion between them.
#pragma once

extern "C" {
#include "postgres.h"
#include "datatype/timestamp.h"
}

namespace convoy::pg {

constexpr int64 postgres_epoch_in_unix_micros =
    int64(POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * USECS_PER_DAY;

constexpr int64 to_unix_micros(TimestampTz t) { return t + postgres_epoch_in_unix_micros; }

} // namespace convoy::pg
