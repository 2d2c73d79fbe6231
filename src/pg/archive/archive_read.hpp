// Drives the core's ArchiveReader (core/archive/archive_reader.hpp) from a
// backend: starts it on the configured store, hands out its events while
// serving interrupts (a cancel stops the reading at once), and says how far it
// has come in a NOTICE every few seconds. The reader thread is stopped when
// the reading ends, and by a memory context callback if an ERROR comes first.
#pragma once

#include "core/archive/archive_reader.hpp"

extern "C" {
#include "postgres.h"
}

#include "pg/archive/archive_target.hpp"

namespace convoy::pg {

struct ArchiveRead;

struct ArchiveReadRequest {
    const ArchiveTable *table;
    int64 start_micros, end_micros; // [start, end), unix microseconds
    // Members to find in each line (names as lines write them, all
    // different), the time column's at time_member.
    char **members;
    int member_count;
    int time_member;
    bool digests;                   // a digest of each line
    const char *function;           // "convoy_backup_verify()", for messages
    // If only_key_count > 0: read exactly these objects again (keys without
    // the store's prefix), without listing the store.
    char **only_keys;
    int only_key_count;
};

// Starts reading. ERRORs if the store's settings cannot work.
ArchiveRead *start_archive_read(const ArchiveReadRequest &request);

enum class ReadStep { event, waiting, finished };

// Waits up to wait_ms (0: not at all) for the next event other than
// "selected". ERRORs when the store fails.
ReadStep poll_archive_event(ArchiveRead *read, archive::EventView *event, long wait_ms);

// The next event other than "selected"; false at the end.
bool next_archive_event(ArchiveRead *read, archive::EventView *event);

// Key as stored (with the store's prefix), for messages; palloc'd.
char *archive_stored_key(ArchiveRead *read, const char *key);

// Stores text for progress NOTICEs of a later phase ("comparing with the table").
void archive_progress(ArchiveRead *read, const char *phase, uint64 done);

// Stops the reader thread and frees it.
void finish_archive_read(ArchiveRead *read);

} // namespace convoy::pg
