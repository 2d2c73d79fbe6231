#include "core/compress/gzip_writer.hpp"

#include <libdeflate.h>

#include <algorithm>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>

#include "core/error.hpp"
#include "core/thread/signal_free_thread.hpp"

namespace convoy {

// Compression runs on whole blocks with libdeflate, several times faster than
// zlib's streaming deflate at level 1 and no larger. Each block becomes one gzip
// member; a gzip file may hold any number of members back to back, and gunzip
// and every gzip reader concatenate them (RFC 1952, section 2.2).
//
// Blocks are compressed on two threads: a helper thread takes every other block
// while the caller's thread compresses the next one, so a flush uses two cores;
// or (CompressOn::helper) the helper takes every block while the caller fills
// the next, so producing and compressing the data use two cores.
// The helper only ever runs libdeflate on memory it was handed: it calls no
// PostgreSQL function, allocates nothing and blocks every signal, which is what
// makes a thread acceptable inside a server process. Members reach the sink in
// order, from the caller's thread. Memory: two input blocks and two outputs.
namespace {

constexpr size_t block_bytes = 2 * 1024 * 1024;

struct Block {
    std::unique_ptr<uint8_t[]> input;
    size_t used = 0;
    std::unique_ptr<uint8_t[]> output;
    size_t output_size = 0;
};

libdeflate_compressor *new_compressor(int level) {
    libdeflate_compressor *compressor = libdeflate_alloc_compressor(level);
    if (compressor == nullptr)
        throw Error(ErrorKind::out_of_resources, "out of memory",
                    "Could not allocate a gzip compressor.");
    return compressor;
}

void compress(libdeflate_compressor *compressor, Block &block, size_t capacity) {
    block.output_size = libdeflate_gzip_compress(compressor, block.input.get(), block.used,
                                                 block.output.get(), capacity);
}

} // namespace

struct GzipWriter::State {
    ByteSink &sink;
    int level;
    CompressOn compress_on;
    size_t out_piece;
    size_t output_capacity = 0;
    libdeflate_compressor *compressor = nullptr;
    Block blocks[2];
    int filling = 0;          // the block write() appends to
    bool helper_busy = false; // the other block is with the helper
    uint64_t in_total = 0;
    uint64_t out_total = 0;
    bool wrote_member = false;
    bool finished = false;

    // The helper thread, started on the first full block.
    libdeflate_compressor *helper_compressor = nullptr;
    std::thread helper;
    std::mutex mutex;
    std::condition_variable wake;
    Block *helper_job = nullptr; // set by the caller, cleared by the helper when done
    bool helper_stop = false;

    State(ByteSink &sink_, int level_, size_t out_buffer, CompressOn compress_on_)
        : sink(sink_), level(level_), compress_on(compress_on_),
          out_piece(std::max<size_t>(out_buffer, 1)) {
        // gzip's levels: libdeflate accepts more, but the setting promises gzip's.
        if (level < 1 || level > 9)
            throw Error(ErrorKind::invalid_config,
                        "invalid gzip compression level " + std::to_string(level),
                        "The level must be between 1 and 9.");
        compressor = new_compressor(level);
        output_capacity = libdeflate_gzip_compress_bound(compressor, block_bytes);
        for (Block &block : blocks) {
            block.input.reset(new uint8_t[block_bytes]);
            block.output.reset(new uint8_t[output_capacity]);
        }
    }

    ~State() {
        if (helper.joinable()) {
            {
                std::lock_guard<std::mutex> lock(mutex);
                helper_stop = true;
            }
            wake.notify_all();
            helper.join();
        }
        libdeflate_free_compressor(helper_compressor);
        libdeflate_free_compressor(compressor);
    }

    void helper_main() noexcept {
        std::unique_lock<std::mutex> lock(mutex);
        for (;;) {
            wake.wait(lock, [this] { return helper_stop || helper_job != nullptr; });
            if (helper_stop)
                return;
            Block *job = helper_job;
            lock.unlock();
            compress(helper_compressor, *job, output_capacity);
            lock.lock();
            helper_job = nullptr;
            wake.notify_all();
        }
    }

    void start_helper() {
        helper_compressor = new_compressor(level);
        helper = start_signal_free_thread([this] { helper_main(); });
    }

    void hand_to_helper(Block &block) {
        if (!helper.joinable())
            start_helper();
        {
            std::lock_guard<std::mutex> lock(mutex);
            helper_job = &block;
        }
        wake.notify_all();
        helper_busy = true;
    }

    void wait_for_helper() {
        std::unique_lock<std::mutex> lock(mutex);
        wake.wait(lock, [this] { return helper_job == nullptr; });
        helper_busy = false;
    }

    void emit(Block &block) {
        if (block.output_size == 0) // Cannot happen: the buffer has libdeflate's bound.
            throw Error(ErrorKind::internal, "could not compress data: output buffer too small");
        for (size_t done = 0; done < block.output_size; done += out_piece)
            sink.write(block.output.get() + done, std::min(out_piece, block.output_size - done));
        out_total += block.output_size;
        block.used = 0;
        block.output_size = 0;
        wrote_member = true;
    }

    // The filling block is full (or final): compress it, keeping members in order.
    void complete_block(bool final_block) {
        Block &current = blocks[filling];
        Block &other = blocks[1 - filling];
        if (!final_block && (!helper_busy || compress_on == CompressOn::helper)) {
            if (helper_busy) {
                wait_for_helper();
                emit(other);
            }
            hand_to_helper(current); // compressed while the caller fills the other
        } else {
            compress(compressor, current, output_capacity);
            if (helper_busy) {
                wait_for_helper();
                emit(other);
            }
            emit(current);
        }
        filling = 1 - filling;
    }

    void require_open(const char *action) const {
        if (finished)
            throw Error(ErrorKind::internal, std::string("cannot ") + action +
                                                 " a gzip stream that is already finished");
    }
};

GzipWriter::GzipWriter(ByteSink &sink, int level, size_t out_buffer, CompressOn compress_on)
    : state_(std::make_unique<State>(sink, level, out_buffer, compress_on)) {}

GzipWriter::~GzipWriter() = default;

void GzipWriter::write(std::string_view data) {
    State &s = *state_;
    s.require_open("write to");
    while (!data.empty()) {
        Block &block = s.blocks[s.filling];
        size_t piece = std::min(data.size(), block_bytes - block.used);
        memcpy(block.input.get() + block.used, data.data(), piece);
        block.used += piece;
        s.in_total += piece;
        data.remove_prefix(piece);
        if (block.used == block_bytes)
            s.complete_block(false);
    }
}

void GzipWriter::finish() {
    State &s = *state_;
    s.require_open("finish");
    bool pending = s.helper_busy;
    // An empty input still makes one (empty) member: every object is valid gzip.
    if (s.blocks[s.filling].used > 0 || (!s.wrote_member && !pending)) {
        s.complete_block(true);
    } else if (pending) {
        s.wait_for_helper();
        s.emit(s.blocks[1 - s.filling]);
    }
    s.finished = true;
}

uint64_t GzipWriter::bytes_in() const noexcept { return state_->in_total; }

uint64_t GzipWriter::bytes_out() const noexcept { return state_->out_total; }

} // namespace convoy
