// How the cdc worker reads WAL: from this server's own files, waiting on its
// latch for WAL not flushed yet (wal_page_read.cpp says why not as logical
// decoding through SQL functions does).
#pragma once

extern "C" {
#include "postgres.h"
#include "access/xlogreader.h"
#include "access/xlogutils.h"
}

#include "pg/cdc/wal_page_read.hpp"

namespace convoy::pg {

inline XLogReaderRoutine local_wal_routine() {
    // XL_ROUTINE() is a C compound literal, which C++ does not accept.
    XLogReaderRoutine routine;
    memset(&routine, 0, sizeof(routine));
    routine.page_read = read_flushed_wal_page;
    routine.segment_open = wal_segment_open;
    routine.segment_close = wal_segment_close;
    return routine;
}

} // namespace convoy::pg
