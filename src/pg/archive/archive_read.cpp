#include "core/archive/archive_reader.hpp"
#include "pg/common/boundary.hpp"
#include "pg/common/storage_access.hpp"

#include <algorithm>

#include "pg/archive/archive_read.hpp"

extern "C" {
#include "catalog/pg_type.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"
}

namespace convoy::pg {

// A NOTICE says how far a long reading has come this often.
constexpr long progress_every_ms = 5000;
// How long one wait for the reader thread lasts before interrupts are served.
constexpr long poll_ms = 100;

struct ArchiveRead {
    archive::ArchiveReader *reader; // owned; deleted only inside run_core()
    MemoryContextCallback stop;
    const char *function;
    const char *table;
    TimestampTz last_notice;
    bool finished;
    uint64 objects_total, bytes_total, objects_done, bytes_done, lines_done;
};

namespace {

void delete_reader(ArchiveRead *read) {
    if (read->reader == nullptr)
        return;
    archive::ArchiveReader *reader = read->reader;
    read->reader = nullptr;
    // Joins the thread; nothing it does can fail.
    (void) run_core([&] { delete reader; });
}

// Called when the memory context dies first: after an ERROR or a cancel.
void stop_reader(void *arg) { delete_reader(static_cast<ArchiveRead *>(arg)); }

double megabytes(uint64 bytes) { return double(bytes) / (1024.0 * 1024.0); }

bool notice_due(ArchiveRead *read) {
    TimestampTz now = GetCurrentTimestamp();
    if (!TimestampDifferenceExceeds(read->last_notice, now, int(progress_every_ms)))
        return false;
    read->last_notice = now;
    return true;
}

void report_progress(ArchiveRead *read) {
    if (!notice_due(read))
        return;
    ereport(NOTICE, (errmsg("%s: read %llu of %llu backup objects of table %s (%.1f of %.1f MB), "
                            "%llu lines in the range so far",
                            read->function, (unsigned long long) read->objects_done,
                            (unsigned long long) read->objects_total, read->table,
                            megabytes(read->bytes_done), megabytes(read->bytes_total),
                            (unsigned long long) read->lines_done)));
}

[[noreturn]] void raise_read_failure(ArchiveRead *read, const CoreFailure &failure) {
    // A cancel or shutdown that stopped a request is reported as itself.
    CHECK_FOR_INTERRUPTS();
    if (failure.kind == ErrorKind::invalid_config || failure.kind == ErrorKind::out_of_resources)
        ereport(ERROR, (errcode(failure.kind == ErrorKind::out_of_resources
                                    ? ERRCODE_PROGRAM_LIMIT_EXCEEDED
                                    : failure_sqlstate(failure)),
                        errmsg("%s", failure.message), failure_aux(failure)));
    ereport(ERROR, (errcode(failure_sqlstate(failure)),
                    errmsg("could not read the backup of table %s: %s", read->table, failure.message),
                    failure_aux(failure)));
}

} // namespace

ArchiveRead *start_archive_read(const ArchiveReadRequest &request) {
    ArchiveRead *read = static_cast<ArchiveRead *>(palloc0(sizeof(ArchiveRead)));
    read->function = request.function;
    read->table = request.table->display;
    read->last_notice = GetCurrentTimestamp();
    const ArchiveTable *table = request.table;
    size_t memory = size_t(setting_read_memory_kb) * 1024;
    // Manifests name the time column in UTF-8.
    const char *time_column = pg_server_to_any(table->time_column, int(strlen(table->time_column)), PG_UTF8);
    CoreFailure failure = run_core([&] {
        archive::ReaderOptions options;
        options.selection.table = table->key_component;
        options.selection.time_column = time_column;
        options.selection.range = archive::TimeRange{request.start_micros, request.end_micros};
        // A timestamp or date compares with the range in the session's time
        // zone, while manifests and export windows record them as UTC: choose
        // objects a day wider (no zone is that far off); lines are then
        // filtered exactly, by PostgreSQL.
        if (table->time_type != TIMESTAMPTZOID) {
            constexpr int64 day = int64(86400) * 1000000;
            archive::TimeRange &r = options.selection.range;
            r.start = r.start < PG_INT64_MIN + day ? PG_INT64_MIN : r.start - day;
            r.end = r.end > PG_INT64_MAX - day ? PG_INT64_MAX : r.end + day;
        }
        for (int i = 0; i < request.only_key_count; i++)
            options.only_keys.emplace_back(request.only_keys[i]);
        for (int i = 0; i < request.member_count; i++)
            options.members.emplace_back(request.members[i]);
        options.time_member = request.time_member;
        options.parse_time = table->time_type == TIMESTAMPTZOID;
        options.digests = request.digests;
        // An eighth of the memory for the longest line, which is also copied
        // once or twice on its way into a row; a sixteenth for each batch of
        // lines in flight (three at most), at most 4 MB, which is plenty.
        options.max_line_bytes = memory / 8;
        options.batch_bytes = std::min<size_t>(memory / 16, 4 << 20);
        options.line_limit_detail =
            "Lines up to an eighth of convoy_backup.read_memory are read; raise it to read "
            "longer ones.";
        read->reader = new archive::ArchiveReader(configured_storage(), std::move(options));
    });
    if (failure.failed) {
        if (failure.kind == ErrorKind::invalid_config)
            ereport(ERROR, (errcode(failure_sqlstate(failure)), errmsg("%s", failure.message),
                            failure_aux(failure)));
        raise_read_failure(read, failure);
    }
    read->stop.func = stop_reader;
    read->stop.arg = read;
    MemoryContextRegisterResetCallback(CurrentMemoryContext, &read->stop);
    return read;
}

ReadStep poll_archive_event(ArchiveRead *read, archive::EventView *event, long wait_ms) {
    for (;;) {
        CHECK_FOR_INTERRUPTS();
        if (read->finished)
            return ReadStep::finished;
        bool got = false;
        CoreFailure failure =
            run_core([&] { got = read->reader->next(*event, std::chrono::milliseconds(wait_ms)); });
        if (failure.failed)
            raise_read_failure(read, failure);
        if (got) {
            read->objects_total = event->objects_total;
            read->bytes_total = event->bytes_total;
            read->objects_done = event->objects_done;
            read->bytes_done = event->bytes_done;
            read->lines_done = event->lines_done;
        }
        report_progress(read);
        if (!got)
            return ReadStep::waiting;
        if (event->kind == archive::EventKind::selected)
            continue;
        if (event->kind == archive::EventKind::finished) {
            read->finished = true;
            return ReadStep::finished;
        }
        return ReadStep::event;
    }
}

bool next_archive_event(ArchiveRead *read, archive::EventView *event) {
    for (;;) {
        ReadStep step = poll_archive_event(read, event, poll_ms);
        if (step != ReadStep::waiting)
            return step == ReadStep::event;
    }
}

char *archive_stored_key(ArchiveRead *read, const char *key) {
    char stored[2048];
    CoreFailure failure = run_core(
        [&] { strlcpy(stored, read->reader->stored_key(key).c_str(), sizeof(stored)); });
    if (failure.failed)
        raise_core_failure(failure, ERROR);
    return pstrdup(stored);
}

void archive_progress(ArchiveRead *read, const char *phase, uint64 done) {
    if (!notice_due(read))
        return;
    ereport(NOTICE, (errmsg("%s: %s of table %s, %llu rows so far", read->function, phase,
                            read->table, (unsigned long long) done)));
}

void finish_archive_read(ArchiveRead *read) { delete_reader(read); }

} // namespace convoy::pg
