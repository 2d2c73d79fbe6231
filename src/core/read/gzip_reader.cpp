#include "core/read/gzip_reader.hpp"

#include <zlib.h>

#include <climits>
#include <string>

#include "core/error.hpp"

namespace convoy {

namespace {

// 16 + 15: a gzip wrapper (not zlib's) around a deflate stream of any window size.
constexpr int gzip_window_bits = 16 + MAX_WBITS;

[[noreturn]] void throw_corrupt(std::string message) {
    throw Error(ErrorKind::corrupt_data, std::move(message));
}

} // namespace

struct GzipReader::State {
    ObjectReader &compressed;
    std::unique_ptr<uint8_t[]> in;
    size_t in_size;
    z_stream zs{};
    bool source_done = false; // compressed has returned 0
    bool in_member = false;   // bytes of a member that has not ended were given to zlib
    bool finished = false;    // the last member ended where the input does
    uint64_t members = 0;
    uint64_t bytes_in = 0, bytes_out = 0;

    State(ObjectReader &source, size_t buffer)
        : compressed(source), in(new uint8_t[buffer]), in_size(buffer) {
        if (inflateInit2(&zs, gzip_window_bits) != Z_OK)
            throw Error(ErrorKind::out_of_resources, "out of memory",
                        "Could not allocate a gzip decompressor.");
    }
    ~State() { inflateEnd(&zs); }
};

GzipReader::GzipReader(ObjectReader &compressed, size_t in_buffer)
    : state_(std::make_unique<State>(compressed, in_buffer > 0 ? in_buffer : 1)) {}

GzipReader::~GzipReader() = default;

size_t GzipReader::read(uint8_t *buffer, size_t capacity) {
    State &s = *state_;
    if (s.finished || capacity == 0)
        return 0;
    z_stream &zs = s.zs;
    // zlib counts in uInt: hand it at most that much room at a time.
    uInt room = capacity > UINT_MAX ? UINT_MAX : static_cast<uInt>(capacity);
    zs.next_out = buffer;
    zs.avail_out = room;
    // Until something comes out: an empty member, or a piece of a header,
    // produces nothing.
    while (zs.avail_out == room) {
        if (zs.avail_in == 0 && !s.source_done) {
            size_t n = s.compressed.read(s.in.get(), s.in_size);
            if (n == 0) {
                s.source_done = true;
            } else {
                zs.next_in = s.in.get();
                zs.avail_in = static_cast<uInt>(n);
            }
        }
        if (zs.avail_in == 0) { // and the source is done
            if (s.members > 0 && !s.in_member) {
                s.finished = true;
                break;
            }
            if (s.bytes_in == 0)
                throw_corrupt("object is empty, which is not valid gzip data");
            throw_corrupt("gzip data ends inside a member after " + std::to_string(s.bytes_in) +
                          " bytes: the object is truncated");
        }
        s.in_member = true;
        uInt before = zs.avail_in;
        int rc = inflate(&zs, Z_NO_FLUSH);
        s.bytes_in += before - zs.avail_in;
        if (rc == Z_STREAM_END) {
            // Another member may follow (GzipWriter writes one per 2 MiB of
            // input); anything else that follows is refused as a bad header.
            s.members++;
            s.in_member = false;
            if (inflateReset(&zs) != Z_OK)
                throw Error(ErrorKind::internal, "could not reset the gzip decompressor");
        } else if (rc == Z_MEM_ERROR) {
            throw Error(ErrorKind::out_of_resources, "out of memory",
                        "The gzip decompressor ran out of memory.");
        } else if (rc != Z_OK && !(rc == Z_BUF_ERROR && zs.avail_in == 0)) {
            throw_corrupt("invalid gzip data at compressed byte " + std::to_string(s.bytes_in) +
                          ": " + (zs.msg != nullptr ? zs.msg : "invalid deflate data"));
        }
    }
    size_t produced = room - zs.avail_out;
    s.bytes_out += produced;
    return produced;
}

uint64_t GzipReader::bytes_in() const noexcept { return state_->bytes_in; }

uint64_t GzipReader::bytes_out() const noexcept { return state_->bytes_out; }

} // namespace convoy
