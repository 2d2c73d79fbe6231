// read_local_xlog_page() waits, a millisecond at a time and heeding no
// shutdown request, until the WAL it is asked for is flushed. The worker reads
// only records that start before the flush position, but one may end after
// it: the walwriter flushes whole pages, and the rest of a record only once a
// commit (or an asynchronous one) asks for it. A record written by a
// transaction still open, or one left behind when a shutdown stopped the
// walwriter and bgwriter (which happens before the worker is asked to stop),
// would keep the worker waiting: no batch written, no reload served, no stop
// (TAP 021). So the worker waits for that WAL on its latch, and flushes it
// itself when a shutdown is requested or after a second, as a walsender does
// when it stops (WalSndWaitForWal). Every byte of a record that starts before
// the flush position has been reserved already, so XLogFlush() can reach it.
#include "pg/cdc/wal_page_read.hpp"

extern "C" {
#include "access/xlog.h"
#include "access/xlogutils.h"
#include "miscadmin.h"
#include "postmaster/interrupt.h"
#include "utils/timestamp.h"
}

#include "pg/common/worker_wait.hpp"

namespace convoy::pg {

namespace {

// Longer than the walwriter takes to flush an asynchronous commit (its
// wal_writer_delay, 200 ms by default): such a tail is left to it.
constexpr int flush_it_after_ms = 1000;
constexpr long poll_ms = 10;

} // namespace

int read_flushed_wal_page(XLogReaderState *state, XLogRecPtr page, int req_len,
                          XLogRecPtr record, char *buffer) {
    XLogRecPtr needed = page + XLogRecPtr(req_len);
    TimestampTz waiting_since = 0;
    while (GetFlushRecPtr(nullptr) < needed) {
        TimestampTz now = GetCurrentTimestamp();
        if (waiting_since == 0)
            waiting_since = now;
        bool reserved = GetXLogInsertRecPtr() >= needed;
        if (reserved && (ShutdownRequestPending ||
                         TimestampDifferenceExceeds(waiting_since, now, flush_it_after_ms))) {
            XLogFlush(needed);
            break;
        }
        // Not even reserved (which the worker's reading never asks for): no
        // record to read now; the worker stops after what it has read.
        if (ShutdownRequestPending)
            return -1;
        wait_for_latch_or_fd(-1, poll_ms);
        CHECK_FOR_INTERRUPTS();
    }
    return read_local_xlog_page(state, page, req_len, record, buffer);
}

} // namespace convoy::pg
