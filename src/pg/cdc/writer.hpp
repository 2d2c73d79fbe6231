// The cdc worker's one way to storage: write jobs run on the core's
// BackgroundWriter thread, so the worker goes on decoding WAL while a batch is
// compressed and uploaded (decoding and compression use different cores).
//
// One job at a time: a batch of sealed pool queues (one object per table) or one
// segment of a large transaction. A job that fails is retried with backoff,
// from its first unwritten object, until it is durable; meanwhile decoding goes
// on until the pool is full, then waits (backpressure, never loss). A batch's
// confirm position is confirmed only when every object of the batch is durable.
//
// Everything here runs on the worker's own thread; the background thread only
// runs core code on memory it is handed (see signal_free_thread.hpp).
#pragma once

extern "C" {
#include "postgres.h"
#include "access/xlogdefs.h"
#include "datatype/timestamp.h"
}

#include <csignal>

#include "pg/encode/time_range.hpp"

namespace convoy::pg {

// One object of a job.
struct CdcObject {
    int table;
    uint64 rows;
    // Names the object (see object_key()): the commit of its first row's
    // transaction and that row's position in it.
    XLogRecPtr commit_lsn;
    TimestampTz commit_time;
    uint64 first_row;
    // For its manifest: the commit of its last row's transaction, and the
    // range of the table's time column among its rows.
    XLogRecPtr last_commit_lsn;
    TimeRange times;
    // The table's sealed pool queue, returned to the pool once written; or,
    // when false, the bytes below (staged memory, unchanged until the job ends).
    bool from_pool;
    const char *data;
    Size len;
};

// Set when the worker exits: storage requests of a running job fail fast.
extern volatile sig_atomic_t cdc_writer_abandoned;

// Starts writing objects (count >= 1, at most max_backup_tables); when all are
// durable, the slot is confirmed up to confirm_lsn (unless it is invalid). Their
// rows were decoded from WAL up to decoded_upto: with a failover slot, the
// write starts once the standbys have that WAL (see cdc/failover.hpp).
// Requires !cdc_writer_busy().
void cdc_writer_start(const CdcObject *objects, int count, XLogRecPtr confirm_lsn,
                      XLogRecPtr decoded_upto);

// A job was started and has not completed: running, waiting to be retried, or
// waiting for the standbys.
bool cdc_writer_busy();

// The job waits for the standbys, which nothing signals: look again soon.
bool cdc_writer_held();

// Never blocks: completes a job that ended (counters, pool, slot), reports a
// failure and schedules its retry, and restarts a failed job once its retry is due.
void cdc_writer_poll();

// The descriptor that becomes readable when the running job ends, for WaitLatchOrSocket;
// -1 when no job is running.
int cdc_writer_wake_fd();

// Blocks until no job is pending, retrying failures with backoff; handles
// interrupts and reloads meanwhile. A shutdown request while a job keeps
// failing, or waits for the standbys, ends the process: what was not confirmed
// is decoded again from the slot. During the final flush a failed job gets one
// more attempt first, and a job waiting for the standbys final_flush_budget_secs.
void cdc_writer_wait();

} // namespace convoy::pg
