// The cdc worker across a failover (PostgreSQL 17's failover slots).
//
// With convoy_backup.failover, the slot is a failover slot: a standby with
// sync_replication_slots keeps a copy of it, and after promotion the worker
// decodes from that copy. Two things keep every row in storage exactly once:
//
//   - Nothing is written to storage before the standbys of
//     synchronized_standby_slots have the WAL it was decoded from, so every
//     row in storage exists on the standby that may replace this server.
//   - The copy is synchronized every so often and may lag behind the slot by a
//     few batches; decoded again from there, those batches could end at other
//     rows than before and their objects would not replace the earlier ones
//     under the same names. So after each durable batch the worker writes a
//     mark into WAL ("everything committed before <lsn> is in storage"), which
//     the standby replays with the rest, and a write waits until the standbys
//     have the last mark. After promotion the worker goes on from the last mark
//     it finds past the slot's position: at most one batch was written past
//     it, as at most one is written past the confirmed position before a crash,
//     and decoded again it is named after the same first row.
#pragma once

extern "C" {
#include "postgres.h"
#include "access/xlogdefs.h"
}

namespace convoy::pg {

// Makes the held slot's failover property follow convoy_backup.failover (at
// start and after each reload), logging each change once.
void follow_failover_setting();

// At start, with the slot held and before decoding: moves the slot forward to
// the last mark in WAL past its confirmed position, if any (a mark of this
// slot's database that the former primary, or this server before a crash,
// wrote after objects were durable), then writes a mark of its own.
void continue_from_last_mark();

// Objects became durable: the next confirmation writes a mark.
void note_objects_durable();

// After the slot was confirmed up to lsn: writes a mark if objects became
// durable since the last one and the slot is a failover slot.
void mark_backed_up(XLogRecPtr lsn);

// Whether a write that holds rows decoded from WAL up to decoded_upto may
// start: the standbys of synchronized_standby_slots have that WAL and the last
// mark (always true but for a failover slot). A wait that lasts is said once,
// in the log and the status, and so is its end.
bool standbys_allow_write(XLogRecPtr decoded_upto);

} // namespace convoy::pg
