// Writes backup objects on a thread of its own, so that the caller (the cdc
// worker, which decodes WAL) goes on decoding while a batch is compressed and
// uploaded: decoding and compression then use different cores.
//
// One job at a time. A job is a list of objects written in order through
// write_cataloged_object(), each followed by its manifest; it stops at the
// first failure, and the outcome says how many objects are durable with their
// manifests and why the next one is not. Retrying is the
// caller's decision. The thread only runs core code on memory it was handed
// (see signal_free_thread.hpp); the caller learns that a job finished by polling
// finished() or by waiting for wake_fd() to become readable.
#pragma once

#include <cstddef>
#include <exception>
#include <memory>
#include <string>
#include <vector>

#include "core/batch/gzip_object.hpp"
#include "core/catalog/manifest.hpp"
#include "core/storage/storage.hpp"
#include "core/core_only.hpp"

namespace convoy {

struct ByteSpan {
    const char *data;
    size_t len;
};

struct ObjectJob {
    // The object's key and what is known of it before it is written (table,
    // rows, LSNs, times); the sizes and checksum are filled in as it is written.
    Manifest manifest;
    // The object's uncompressed bytes, in order. The memory must stay valid and
    // unchanged until the job is collected.
    std::vector<ByteSpan> spans;
};

struct JobOutcome {
    // The first written.size() objects of the job are durable, each with its
    // manifest, in job order.
    std::vector<ObjectWritten> written;
    // Why the next object was not written; null when all were.
    std::exception_ptr error;
};

class BackgroundWriter {
public:
    // Throws convoy::Error if the wake-up pipe cannot be made. The thread starts
    // with the first job.
    BackgroundWriter();
    // Waits for a running job to end: make its storage requests fail fast first
    // (the storage's cancel callback) if it must not take long.
    ~BackgroundWriter();
    BackgroundWriter(const BackgroundWriter &) = delete;
    BackgroundWriter &operator=(const BackgroundWriter &) = delete;

    // Starts a job. The storage is kept until the job is collected. Throws
    // convoy::Error(internal) if a job is still uncollected.
    void start(std::shared_ptr<Storage> storage, std::vector<ObjectJob> objects,
               int gzip_level = 1);
    // A job was started and not yet collected.
    bool busy() const noexcept;
    // The started job has ended (collect() will not block).
    bool finished() const noexcept;
    // Readable from when a job ends until it is collected.
    int wake_fd() const noexcept;
    // Blocks until the started job ends.
    void wait() noexcept;
    // The ended job's outcome; the writer is then idle. Throws convoy::Error(internal)
    // if no job has ended.
    JobOutcome collect();

private:
    struct State;
    std::unique_ptr<State> state_;
};

} // namespace convoy
