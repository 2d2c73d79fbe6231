// Streaming gzip compression onto a ByteSink, with bounded memory whatever the
// input size.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

#include "core/core_only.hpp"

namespace convoy {

// Where bytes go: an upload, a file, a test buffer. write() throws convoy::Error
// on failure.
class ByteSink {
public:
    virtual ~ByteSink() = default;
    virtual void write(const uint8_t *data, size_t len) = 0;
};

// Which threads compress. With caller_and_helper, the thread calling write()
// and a helper thread take turns, block by block: right when the caller has
// nothing else to do. With helper, the helper compresses every block but the
// last and write() only copies, so the caller goes back to producing data (say,
// encoding rows) while the previous block is compressed on another core.
enum class CompressOn { caller_and_helper, helper };

// Writes a gzip stream (RFC 1952) holding everything passed to write(), as one
// member per 2 MiB of input (see gzip_writer.cpp). finish() must be called to
// write the last member; a writer destroyed without finish() leaves the sink
// with a truncated stream, which the caller aborts.
class GzipWriter {
public:
    // level: 1 (fastest) .. 9 (smallest); out_buffer: bytes handed to the sink at a time.
    explicit GzipWriter(ByteSink &sink, int level = 1, size_t out_buffer = 64 * 1024,
                        CompressOn compress_on = CompressOn::caller_and_helper);
    ~GzipWriter();
    GzipWriter(const GzipWriter &) = delete;
    GzipWriter &operator=(const GzipWriter &) = delete;

    void write(std::string_view data);
    void finish();

    uint64_t bytes_in() const noexcept;
    uint64_t bytes_out() const noexcept;

private:
    struct State;
    std::unique_ptr<State> state_;
};

} // namespace convoy
