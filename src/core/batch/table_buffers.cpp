#include "core/batch/table_buffers.hpp"

#include <cassert>
#include <cstring>
#include <initializer_list>
#include <new>

namespace convoy {

// Region layout (every offset is relative to the start of the region, so any
// process may map it at any address):
//
//   [PoolHeader, padded to header_bytes][chunk 0][chunk 1]...[chunk n-1]
//
// Each chunk is chunk_bytes long: a ChunkHeader followed by its payload. A chunk
// is either on the free list or on exactly one table's queue; both are singly
// linked through ChunkHeader::next by chunk index. Only the last chunk of a
// table's queue may be partly filled. A sealed queue is never appended to.

namespace {

// "CNVYBUF" plus a layout version in the low byte: a region formatted by a build
// with another layout is not mistaken for this one.
constexpr uint64_t pool_magic = 0x434E565942554600ull | 2u;

struct TableQueue {
    uint32_t head;   // first (oldest) chunk, or no_chunk
    uint32_t tail;   // last chunk, the only one that may have room left
    uint32_t chunks; // number of chunks in the queue
    uint32_t unused;
    uint64_t rows;
    uint64_t bytes;
};

struct PoolHeader {
    uint64_t magic;
    uint32_t chunk_bytes; // as formatted, for the consistency check in attach()
    uint32_t chunk_count;
    uint32_t free_head;
    uint32_t free_chunks;
    TableQueue tables[TableBuffers::max_tables]; // open queues
    TableQueue sealed[TableBuffers::max_tables];
};

struct ChunkHeader {
    uint32_t next; // next chunk in the same queue, or no_chunk
    uint32_t used; // payload bytes filled
};

constexpr size_t align_up(size_t n, size_t to) noexcept { return (n + to - 1) / to * to; }

// The header is padded to a cache line multiple so chunks start aligned.
constexpr size_t header_bytes = align_up(sizeof(PoolHeader), 64);
constexpr uint32_t payload_bytes =
    TableBuffers::chunk_bytes - static_cast<uint32_t>(sizeof(ChunkHeader));
constexpr uint32_t none = 0xFFFFFFFFu;
constexpr TableQueue empty_queue{none, none, 0, 0, 0, 0};

static_assert(sizeof(ChunkHeader) % alignof(ChunkHeader) == 0, "chunk header layout");
static_assert(TableBuffers::chunk_bytes % 64 == 0, "chunks must keep their alignment");
static_assert(TableBuffers::chunk_bytes > sizeof(ChunkHeader), "chunk too small");

// Chunk count for a pool of buffer_bytes: whole chunks, at least two, and few
// enough that an index (and no_chunk) fits in 32 bits.
size_t chunk_count_for(size_t buffer_bytes) noexcept {
    size_t n = buffer_bytes / TableBuffers::chunk_bytes;
    if (n < 2)
        n = 2;
    if (n > none - 1)
        n = none - 1;
    return n;
}

PoolHeader *header_of(void *region) noexcept { return static_cast<PoolHeader *>(region); }

char *chunk_at(void *region, uint32_t chunk) noexcept {
    return static_cast<char *>(region) + header_bytes + size_t(chunk) * TableBuffers::chunk_bytes;
}

ChunkHeader *chunk_header(void *region, uint32_t chunk) noexcept {
    return reinterpret_cast<ChunkHeader *>(chunk_at(region, chunk));
}

char *chunk_payload(void *region, uint32_t chunk) noexcept {
    return chunk_at(region, chunk) + sizeof(ChunkHeader);
}

} // namespace

size_t TableBuffers::region_size(size_t buffer_bytes) noexcept {
    return header_bytes + chunk_count_for(buffer_bytes) * size_t(chunk_bytes);
}

TableBuffers TableBuffers::format(void *region, size_t buffer_bytes) noexcept {
    static_assert(no_chunk == none, "one spelling of the end of a chunk list");
    assert(reinterpret_cast<uintptr_t>(region) % alignof(PoolHeader) == 0 &&
           "the region must be aligned for 64-bit counters");
    uint32_t count = static_cast<uint32_t>(chunk_count_for(buffer_bytes));

    std::memset(region, 0, header_bytes);
    PoolHeader *h = new (region) PoolHeader{};
    h->chunk_bytes = chunk_bytes;
    h->chunk_count = count;
    for (TableQueue &q : h->tables)
        q = empty_queue;
    for (TableQueue &q : h->sealed)
        q = empty_queue;

    for (uint32_t c = 0; c < count; c++)
        new (chunk_at(region, c)) ChunkHeader{c + 1 < count ? c + 1 : no_chunk, 0};
    h->free_head = 0;
    h->free_chunks = count;
    // Last, so a half-formatted region never looks valid.
    h->magic = pool_magic;
    return TableBuffers(region);
}

TableBuffers TableBuffers::attach(void *region) noexcept {
    [[maybe_unused]] const PoolHeader *h = header_of(region);
    assert(reinterpret_cast<uintptr_t>(region) % alignof(PoolHeader) == 0);
    assert(h->magic == pool_magic && h->chunk_bytes == chunk_bytes &&
           "region was not formatted by TableBuffers::format()");
    return TableBuffers(region);
}

bool TableBuffers::append_rows(uint32_t table, const char *data, size_t len,
                               uint64_t rows) noexcept {
    if (table >= max_tables)
        return false;
    PoolHeader *h = header_of(region_);
    TableQueue &q = h->tables[table];

    // Check the whole run fits before touching anything: all or nothing.
    size_t tail_room = q.tail == no_chunk ? 0 : payload_bytes - chunk_header(region_, q.tail)->used;
    if (len > tail_room) {
        size_t beyond = len - tail_room;
        size_t needed_chunks = beyond / payload_bytes + (beyond % payload_bytes != 0);
        if (needed_chunks > h->free_chunks)
            return false;
    }

    size_t done = 0;
    while (done < len) {
        if (q.tail == no_chunk || chunk_header(region_, q.tail)->used == payload_bytes) {
            // Take the first free chunk and link it at the end of the queue.
            uint32_t c = h->free_head;
            ChunkHeader *ch = chunk_header(region_, c);
            h->free_head = ch->next;
            h->free_chunks--;
            ch->next = no_chunk;
            ch->used = 0;
            if (q.tail == no_chunk)
                q.head = c;
            else
                chunk_header(region_, q.tail)->next = c;
            q.tail = c;
            q.chunks++;
        }
        ChunkHeader *tail = chunk_header(region_, q.tail);
        size_t piece = payload_bytes - tail->used;
        if (piece > len - done)
            piece = len - done;
        std::memcpy(chunk_payload(region_, q.tail) + tail->used, data + done, piece);
        tail->used += static_cast<uint32_t>(piece);
        done += piece;
    }
    q.rows += rows;
    q.bytes += len;
    return true;
}

size_t TableBuffers::capacity_bytes() const noexcept {
    return size_t(header_of(region_)->chunk_count) * payload_bytes;
}

size_t TableBuffers::free_bytes() const noexcept {
    // Only whole free chunks count: the room left in a table's last chunk can be
    // used by that table alone.
    return size_t(header_of(region_)->free_chunks) * payload_bytes;
}

namespace {

BufferedTableStats stats_of(const TableQueue &q) noexcept {
    BufferedTableStats s;
    s.rows = q.rows;
    s.bytes = q.bytes;
    return s;
}

// Splices the whole queue onto the front of the free list and empties it.
void release_queue(void *region, TableQueue &q) noexcept {
    PoolHeader *h = header_of(region);
    if (q.head != none) {
        chunk_header(region, q.tail)->next = h->free_head;
        h->free_head = q.head;
        h->free_chunks += q.chunks;
    }
    q = empty_queue;
}

} // namespace

BufferedTableStats TableBuffers::stats(uint32_t table) const noexcept {
    if (table >= max_tables)
        return {};
    return stats_of(header_of(region_)->tables[table]);
}

BufferedTableStats TableBuffers::sealed_stats(uint32_t table) const noexcept {
    if (table >= max_tables)
        return {};
    return stats_of(header_of(region_)->sealed[table]);
}

BufferedTableStats TableBuffers::total() const noexcept {
    BufferedTableStats sum;
    const PoolHeader *h = header_of(region_);
    for (uint32_t t = 0; t < max_tables; t++)
        for (const TableQueue *q : {&h->tables[t], &h->sealed[t]}) {
            sum.rows += q->rows;
            sum.bytes += q->bytes;
        }
    return sum;
}

bool TableBuffers::seal(uint32_t table) noexcept {
    if (table >= max_tables)
        return false;
    PoolHeader *h = header_of(region_);
    if (h->sealed[table].head != no_chunk)
        return false;
    h->sealed[table] = h->tables[table];
    h->tables[table] = empty_queue;
    return true;
}

void TableBuffers::release_sealed(uint32_t table) noexcept {
    if (table < max_tables)
        release_queue(region_, header_of(region_)->sealed[table]);
}

void TableBuffers::clear(uint32_t table) noexcept {
    if (table >= max_tables)
        return;
    release_queue(region_, header_of(region_)->tables[table]);
    release_queue(region_, header_of(region_)->sealed[table]);
}

void TableBuffers::clear_all() noexcept {
    for (uint32_t t = 0; t < max_tables; t++)
        clear(t);
}

uint32_t TableBuffers::first_chunk(uint32_t table) const noexcept {
    if (table >= max_tables)
        return no_chunk;
    return header_of(region_)->tables[table].head;
}

uint32_t TableBuffers::next_chunk(uint32_t chunk) const noexcept {
    return chunk_header(region_, chunk)->next;
}

uint32_t TableBuffers::first_sealed_chunk(uint32_t table) const noexcept {
    if (table >= max_tables)
        return no_chunk;
    return header_of(region_)->sealed[table].head;
}

const char *TableBuffers::chunk_data(uint32_t chunk) const noexcept {
    return chunk_at(region_, chunk) + sizeof(ChunkHeader);
}

uint32_t TableBuffers::chunk_used(uint32_t chunk) const noexcept {
    return chunk_header(region_, chunk)->used;
}

} // namespace convoy
