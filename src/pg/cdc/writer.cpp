// Write jobs of the cdc worker on the background thread (see cdc/writer.hpp).
#include "core/batch/background_writer.hpp"
#include "core/batch/object_key.hpp"
#include "core/batch/table_buffers.hpp"
#include "core/catalog/manifest.hpp"
#include "pg/common/boundary.hpp"
#include "pg/common/storage_access.hpp"
#include "pg/common/unix_time.hpp"

#include "pg/cdc/batches.hpp"
#include "pg/cdc/failover.hpp"
#include "pg/cdc/writer.hpp"
#include "pg/common/shared_state.hpp"
#include "pg/common/worker_wait.hpp"

extern "C" {
#include "miscadmin.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "utils/timestamp.h"
}

namespace convoy::pg {

volatile sig_atomic_t cdc_writer_abandoned = false;

namespace {

constexpr int first_retry_delay_ms = 1000;
constexpr int max_retry_delay_ms = 60 * 1000;
// How long a wait lasts at most before it looks at the job again.
constexpr long max_wait_ms = 1000;
// How often a job waiting for the standbys looks again: they usually receive
// WAL within milliseconds, and nothing signals it.
constexpr long standby_poll_ms = 10;

struct PendingJob {
    bool pending;      // started and not completed
    bool running;      // with the background writer now
    bool held;         // not started yet: waits for the standbys (cdc/failover.hpp)
    XLogRecPtr decoded_upto; // the WAL its rows were decoded from ends here
    int count;
    int done;          // objects[0..done) are durable
    CdcObject objects[max_backup_tables];
    XLogRecPtr confirm_lsn;
    int attempt;
    int delay_ms;
    TimestampTz retry_at;
    uint64 reloads_at_attempt; // a reload since may have fixed a failure: retry at once
    bool tried_in_final_flush;
    char failed_key[256]; // the object the last failure was about, for the log
    // Each object's key as stored and the store of the current attempt, for
    // convoy_backup_status().
    char stored_keys[max_backup_tables][sizeof(TableState::last_object)];
    char store[sizeof(TableState::last_store)];
};

PendingJob job;
// Created with the first job and kept for the life of the process; deleted at
// exit, after its running job was told to fail fast (never by a static
// destructor, which would run while the thread may still use the storage).
BackgroundWriter *writer = nullptr;

void stop_writer(int code, Datum arg) {
    cdc_writer_abandoned = true;
    // The destructor waits for a running job, whose storage requests now fail.
    delete writer;
    writer = nullptr;
}

void count_written(int index, uint64 compressed_bytes) {
    const CdcObject &object = job.objects[index];
    SharedState *state = shared_state();
    TimestampTz now = GetCurrentTimestamp();
    LWLockAcquire(state->lock, LW_EXCLUSIVE);
    if (object.from_pool)
        cdc_pool().release_sealed(object.table);
    TableState &t = state->tables[object.table];
    t.rows_written += object.rows;
    t.objects_written++;
    t.bytes_written += compressed_bytes;
    t.last_flush = now;
    strlcpy(t.last_object, job.stored_keys[index], sizeof(t.last_object));
    strlcpy(t.last_store, job.store, sizeof(t.last_store));
    state->rows_written += object.rows;
    state->objects_written++;
    LWLockRelease(state->lock);
    clear_error(object.table);
    note_objects_durable();
}

// What convoy_backup_status() shows of the pending write.
void publish_write_state(int failures, TimestampTz next_retry) {
    SharedState *state = shared_state();
    LWLockAcquire(state->lock, LW_EXCLUSIVE);
    state->write_failures = failures;
    state->next_retry = next_retry;
    if (!job.pending) {
        state->writing_since = 0;
    } else if (failures == 0) {
        TimestampTz oldest = job.objects[0].commit_time;
        for (int i = 1; i < job.count; i++)
            oldest = Min(oldest, job.objects[i].commit_time);
        state->writing_since = oldest;
    }
    LWLockRelease(state->lock);
}

// A failed attempt: reported where the operator looks (logged on the first
// failure and then at most once a minute), and retried after a backoff.
void report_failure(const CoreFailure &failure) {
    const CdcObject &object = job.objects[job.done];
    record_error(object.table, failure.message);
    if (job.attempt == 1 || job.delay_ms >= max_retry_delay_ms)
        ereport(WARNING,
                (errcode(failure_sqlstate(failure)),
                 errmsg("convoy_backup could not write backup object for table %s: %s",
                        cdc_tables().tables[object.table].display, failure.message),
                 failure.detail[0] ? errdetail_internal("%s", failure.detail) : 0,
                 errhint("The rows stay buffered and the write is retried; the replication "
                         "slot does not advance until they are written. If the worker stops "
                         "first, it decodes them again from the slot when it restarts.")));
    job.retry_at = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), job.delay_ms);
    job.delay_ms = Min(job.delay_ms * 2, max_retry_delay_ms);
    publish_write_state(job.attempt, job.retry_at);
}

// Hands the unwritten objects to the background thread. A failure to start
// (settings that name no usable storage, say) counts as a failed attempt.
void start_attempt() {
    static bool exit_callback_registered = false;
    if (!exit_callback_registered) {
        // Outside run_core(): it is PostgreSQL code and may raise an error.
        before_shmem_exit(stop_writer, (Datum) 0);
        exit_callback_registered = true;
    }
    job.attempt++;
    job.reloads_at_attempt = reloads_served();
    job.tried_in_final_flush = cdc_final_flush;
    const ConfiguredTables &tables = cdc_tables();
    char key_for_log[sizeof(job.failed_key)] = "";
    CoreFailure failure = run_core([&] {
        if (writer == nullptr)
            writer = new BackgroundWriter();
        std::vector<ObjectJob> objects;
        std::shared_ptr<Storage> storage = configured_storage();
        strlcpy(job.store, storage->describe().c_str(), sizeof(job.store));
        TableBuffers buffers = cdc_pool();
        for (int i = job.done; i < job.count; i++) {
            const CdcObject &o = job.objects[i];
            BatchOrigin origin{tables.tables[o.table].display,
                               to_unix_micros(o.commit_time), o.commit_lsn,
                               o.first_row};
            // What the manifest records before the object is written (the
            // writer adds its sizes and checksum).
            const ManifestNames &names = cdc_manifest_names(o.table);
            ObjectJob object{Manifest{}, {}};
            Manifest &m = object.manifest;
            m.key = object_key(origin);
            m.table = names.table;
            m.source = ObjectSource::cdc;
            m.rows = o.rows;
            m.first_commit_lsn = o.commit_lsn;
            m.last_commit_lsn = o.last_commit_lsn;
            m.time_column = names.time_column;
            if (o.times.seen) {
                m.time_min_micros = o.times.min_micros;
                m.time_max_micros = o.times.max_micros;
            }
            const std::string &key = m.key;
            if (i == job.done)
                strlcpy(key_for_log, key.c_str(), sizeof(key_for_log));
            strlcpy(job.stored_keys[i], storage->stored_key(key).c_str(),
                    sizeof(job.stored_keys[i]));
            // Sealed queues change only when released, after the job: no lock.
            if (o.from_pool)
                buffers.for_each_sealed_span(o.table, [&object](const char *data, size_t len) {
                    object.spans.push_back(ByteSpan{data, len});
                });
            else
                object.spans.push_back(ByteSpan{o.data, o.len});
            objects.push_back(std::move(object));
        }
        writer->start(storage, std::move(objects));
    });
    strlcpy(job.failed_key, key_for_log, sizeof(job.failed_key));
    if (!failure.failed) {
        job.running = true;
        return;
    }
    // Nothing was handed over: report it as the attempt's failure.
    report_failure(failure);
}


// The running job ended: account for what it wrote, then complete the job or
// report why it stopped.
void complete_ended_job() {
    uint64 compressed[max_backup_tables];
    int written = 0;
    CoreFailure failure = run_core([&] {
        JobOutcome outcome = writer->collect();
        for (const ObjectWritten &object : outcome.written)
            compressed[written++] = object.compressed_bytes;
        if (outcome.error)
            std::rethrow_exception(outcome.error);
    });
    job.running = false;
    for (int i = 0; i < written; i++)
        count_written(job.done + i, compressed[i]);
    job.done += written;
    if (failure.failed) {
        report_failure(failure);
        return;
    }
    if (job.attempt > 1)
        ereport(LOG, (errmsg("convoy_backup wrote object \"%s\" after %d attempts",
                             job.failed_key, job.attempt)));
    clear_error(-1);
    job.pending = false;
    publish_write_state(0, 0);
    if (job.confirm_lsn != InvalidXLogRecPtr) {
        cdc_confirm(job.confirm_lsn);
        SharedState *state = shared_state();
        LWLockAcquire(state->lock, LW_EXCLUSIVE);
        state->last_flush = GetCurrentTimestamp();
        LWLockRelease(state->lock);
    }
}

} // namespace

void cdc_writer_start(const CdcObject *objects, int count, XLogRecPtr confirm_lsn,
                      XLogRecPtr decoded_upto) {
    Assert(!job.pending && count >= 1 && count <= max_backup_tables);
    memcpy(job.objects, objects, sizeof(CdcObject) * count);
    job.count = count;
    job.done = 0;
    job.confirm_lsn = confirm_lsn;
    job.attempt = 0;
    job.delay_ms = first_retry_delay_ms;
    job.pending = true;
    job.running = false;
    job.decoded_upto = decoded_upto;
    job.held = !standbys_allow_write(decoded_upto);
    publish_write_state(0, 0);
    if (!job.held)
        start_attempt();
}

bool cdc_writer_busy() { return job.pending; }

bool cdc_writer_held() { return job.pending && job.held; }

int cdc_writer_wake_fd() { return job.running ? writer->wake_fd() : -1; }

void cdc_writer_poll() {
    if (!job.pending)
        return;
    if (job.running) {
        if (writer->finished())
            complete_ended_job();
    } else if (job.held) {
        job.held = !standbys_allow_write(job.decoded_upto);
        if (!job.held)
            start_attempt();
    } else if (GetCurrentTimestamp() >= job.retry_at ||
               reloads_served() != job.reloads_at_attempt) {
        start_attempt();
    }
}

void cdc_writer_wait() {
    TimestampTz held_deadline = 0; // during the final flush
    while (job.pending) {
        cdc_writer_poll();
        if (!job.pending)
            break;
        if (job.held && ShutdownRequestPending && cdc_final_flush) {
            // The standbys stay connected until this worker exits: give them
            // as long as a storage request gets.
            TimestampTz now = GetCurrentTimestamp();
            if (held_deadline == 0)
                held_deadline = TimestampTzPlusMilliseconds(now, final_flush_budget_secs * 1000);
            if (now < held_deadline) {
                wait_for_latch_or_fd(-1, standby_poll_ms);
                CHECK_FOR_INTERRUPTS();
                continue;
            }
        }
        if (!job.running && ShutdownRequestPending) {
            // The final flush's storage requests are not canceled (for a while):
            // a job that failed because a shutdown canceled it gets that chance.
            if (cdc_final_flush && !job.held && !job.tried_in_final_flush) {
                start_attempt();
                continue;
            }
            ereport(LOG, (errmsg("convoy_backup cdc worker stopping before its buffered rows "
                                 "were written"),
                          errdetail("Replication slot \"%s\" was not advanced past them: the "
                                    "worker decodes them again and retries the write when it "
                                    "restarts.",
                                    setting_slot_name)));
            proc_exit(1);
        }
        long timeout_ms = max_wait_ms;
        if (job.held)
            timeout_ms = standby_poll_ms;
        else if (!job.running)
            timeout_ms = Min(timeout_ms, TimestampDifferenceMilliseconds(GetCurrentTimestamp(),
                                                                          job.retry_at));
        wait_for_latch_or_fd(cdc_writer_wake_fd(), timeout_ms);
        // A reload may fix the storage settings; the worker's main loop notices
        // other changes through configured_tables_generation().
        serve_interrupts_and_reload();
    }
}

} // namespace convoy::pg
