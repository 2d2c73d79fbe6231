// How the cdc worker's WAL reader gets its pages: PostgreSQL's
// read_local_xlog_page(), once the WAL asked for is flushed (see the .cpp).
#pragma once

extern "C" {
#include "postgres.h"
#include "access/xlogreader.h"
}

namespace convoy::pg {

// An XLogPageReadCB: the reader's page_read callback.
int read_flushed_wal_page(XLogReaderState *state, XLogRecPtr page, int req_len,
                          XLogRecPtr record, char *buffer);

} // namespace convoy::pg
