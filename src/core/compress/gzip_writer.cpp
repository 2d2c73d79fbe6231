#include "core/compress/gzip_writer.hpp"

#include <zlib.h>

#include <algorithm>
#include <limits>
#include <string>

#include "core/error.hpp"

namespace convoy {

namespace {

// 32 KiB window; +16 asks zlib for a gzip header and trailer instead of zlib's.
constexpr int gzip_window_bits = 15 + 16;
constexpr int default_mem_level = 8;
// zlib counts in uInt; larger inputs and buffers are handled in pieces of this size.
constexpr size_t max_zlib_piece = std::numeric_limits<uInt>::max();

[[noreturn]] void throw_zlib_error(const char *action, int code, const z_stream &zs) {
    ErrorKind kind = code == Z_MEM_ERROR ? ErrorKind::out_of_resources : ErrorKind::internal;
    const char *reason = zs.msg ? zs.msg : zError(code);
    throw Error(kind, std::string("could not ") + action + ": " + reason);
}

} // namespace

struct GzipWriter::State {
    ByteSink &sink;
    z_stream zs{};
    std::unique_ptr<uint8_t[]> out;
    size_t out_size;
    uint64_t in_total = 0;
    uint64_t out_total = 0;
    bool finished = false;

    State(ByteSink &sink_, int level, size_t out_buffer)
        : sink(sink_), out_size(std::clamp<size_t>(out_buffer, 1, max_zlib_piece)) {
        out.reset(new uint8_t[out_size]);
        int rc = deflateInit2(&zs, level, Z_DEFLATED, gzip_window_bits, default_mem_level,
                              Z_DEFAULT_STRATEGY);
        if (rc != Z_OK)
            throw_zlib_error("initialize gzip compression", rc, zs);
        reset_output();
    }
    ~State() { deflateEnd(&zs); }

    void reset_output() noexcept {
        zs.next_out = out.get();
        zs.avail_out = static_cast<uInt>(out_size);
    }

    // Hands the compressed bytes buffered so far to the sink.
    void emit() {
        size_t have = out_size - zs.avail_out;
        if (have == 0)
            return;
        sink.write(out.get(), have);
        out_total += have;
        reset_output();
    }

    // Runs deflate until all of next_in is consumed (Z_NO_FLUSH) or the member is
    // complete (Z_FINISH). The sink only ever receives full buffers, except the last.
    void run_deflate(int flush) {
        for (;;) {
            if (zs.avail_out == 0)
                emit();
            int rc = deflate(&zs, flush);
            if (rc == Z_STREAM_END)
                return;
            // Z_BUF_ERROR only means "no progress possible now", which is not fatal.
            if (rc != Z_OK && rc != Z_BUF_ERROR)
                throw_zlib_error("compress data", rc, zs);
            // Without Z_FINISH, deflate stops with room left only once all input is in.
            if (flush == Z_NO_FLUSH && zs.avail_out != 0)
                return;
        }
    }

    void require_open(const char *action) const {
        if (finished)
            throw Error(ErrorKind::internal, std::string("cannot ") + action +
                                                 " a gzip stream that is already finished");
    }
};

GzipWriter::GzipWriter(ByteSink &sink, int level, size_t out_buffer)
    : state_(std::make_unique<State>(sink, level, out_buffer)) {}

GzipWriter::~GzipWriter() = default;

void GzipWriter::write(std::string_view data) {
    State &s = *state_;
    s.require_open("write to");
    while (!data.empty()) {
        size_t piece = std::min(data.size(), max_zlib_piece);
        // zlib never writes through next_in; the cast only satisfies its pre-const API.
        s.zs.next_in = reinterpret_cast<Bytef *>(const_cast<char *>(data.data()));
        s.zs.avail_in = static_cast<uInt>(piece);
        s.run_deflate(Z_NO_FLUSH);
        s.in_total += piece;
        data.remove_prefix(piece);
    }
}

void GzipWriter::finish() {
    State &s = *state_;
    s.require_open("finish");
    s.run_deflate(Z_FINISH);
    s.emit();
    s.finished = true;
}

uint64_t GzipWriter::bytes_in() const noexcept { return state_->in_total; }

uint64_t GzipWriter::bytes_out() const noexcept { return state_->out_total; }

} // namespace convoy
