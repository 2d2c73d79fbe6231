#include "core/compress/gzip_writer.hpp"

#include <libdeflate.h>

#include <algorithm>
#include <string>

#include "core/error.hpp"

namespace convoy {

// Compression runs on whole blocks with libdeflate, several times faster than
// zlib's streaming deflate at level 1 and no larger. Each block becomes one gzip
// member; a gzip file may hold any number of members back to back, and gunzip
// and every gzip reader concatenate them (RFC 1952, section 2.2). Memory stays
// at one input block plus its worst-case compressed size, whatever the input.
namespace {

constexpr size_t block_bytes = 2 * 1024 * 1024;

} // namespace

struct GzipWriter::State {
    ByteSink &sink;
    libdeflate_compressor *compressor = nullptr;
    std::unique_ptr<uint8_t[]> block;
    size_t block_used = 0;
    std::unique_ptr<uint8_t[]> compressed;
    size_t compressed_capacity;
    size_t out_piece;
    uint64_t in_total = 0;
    uint64_t out_total = 0;
    bool wrote_member = false;
    bool finished = false;

    State(ByteSink &sink_, int level, size_t out_buffer)
        : sink(sink_), out_piece(std::max<size_t>(out_buffer, 1)) {
        // gzip's levels: libdeflate accepts more, but the setting promises gzip's.
        if (level < 1 || level > 9)
            throw Error(ErrorKind::invalid_config,
                        "invalid gzip compression level " + std::to_string(level),
                        "The level must be between 1 and 9.");
        compressor = libdeflate_alloc_compressor(level);
        if (compressor == nullptr)
            throw Error(ErrorKind::out_of_resources, "out of memory",
                        "Could not allocate a gzip compressor.");
        compressed_capacity = libdeflate_gzip_compress_bound(compressor, block_bytes);
        block.reset(new uint8_t[block_bytes]);
        compressed.reset(new uint8_t[compressed_capacity]);
    }
    ~State() { libdeflate_free_compressor(compressor); }

    // Compresses the buffered block into one member and hands it to the sink.
    void emit_member() {
        size_t size = libdeflate_gzip_compress(compressor, block.get(), block_used,
                                               compressed.get(), compressed_capacity);
        if (size == 0) // Cannot happen: the buffer has the bound libdeflate promises.
            throw Error(ErrorKind::internal, "could not compress data: output buffer too small");
        for (size_t done = 0; done < size; done += out_piece)
            sink.write(compressed.get() + done, std::min(out_piece, size - done));
        out_total += size;
        block_used = 0;
        wrote_member = true;
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
        size_t piece = std::min(data.size(), block_bytes - s.block_used);
        std::copy(data.data(), data.data() + piece, s.block.get() + s.block_used);
        s.block_used += piece;
        s.in_total += piece;
        data.remove_prefix(piece);
        if (s.block_used == block_bytes)
            s.emit_member();
    }
}

void GzipWriter::finish() {
    State &s = *state_;
    s.require_open("finish");
    // An empty input still makes one (empty) member: every object is valid gzip.
    if (s.block_used > 0 || !s.wrote_member)
        s.emit_member();
    s.finished = true;
}

uint64_t GzipWriter::bytes_in() const noexcept { return state_->in_total; }

uint64_t GzipWriter::bytes_out() const noexcept { return state_->out_total; }

} // namespace convoy
