// Per-table row buffers carved from one fixed pool, laid out in a caller-provided
// region (PostgreSQL shared memory in the extension, plain memory in unit tests).
//
// The pool is a sequence of fixed-size chunks; each table owns a singly linked
// queue of them. A busy table may use the whole pool, and the total never exceeds
// the region: when the pool is full append_rows() says so and the caller flushes or
// waits.
//
// Each table also has a sealed queue: seal() moves the open queue there, where
// its bytes stay unchanged, readable without a lock by the one reader that writes
// them out, while appends go on into a new open queue. release_sealed() returns
// the sealed chunks to the pool once they are written. The region holds plain data and offsets only (no pointers, no std types),
// so any process that maps it at any address can read it.
//
// Not synchronised: the caller serialises access (the PostgreSQL layer holds an
// LWLock around every call that changes or reads counters).
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/core_only.hpp"

namespace convoy {

struct BufferedTableStats {
    uint64_t rows = 0;
    uint64_t bytes = 0;
};

class TableBuffers {
public:
    static constexpr uint32_t max_tables = 64;
    static constexpr uint32_t chunk_bytes = 64 * 1024; // chunk size including its header

    // Region bytes needed for a pool of buffer_bytes (rounded down to whole chunks,
    // at least two).
    static size_t region_size(size_t buffer_bytes) noexcept;
    // Lays out an empty pool in region, which must be region_size(buffer_bytes) long.
    static TableBuffers format(void *region, size_t buffer_bytes) noexcept;
    // A view of a region formatted before, possibly by another process.
    static TableBuffers attach(void *region) noexcept;

    // Appends rows (complete JSON lines, each with its trailing newline) to
    // table's queue, all or nothing: a transaction's rows enter together. Returns
    // false, changing nothing, when the free space left cannot hold len bytes.
    // table < max_tables.
    bool append_rows(uint32_t table, const char *data, size_t len, uint64_t rows) noexcept;

    // Payload bytes the whole pool can hold: no row longer than this can ever fit.
    size_t capacity_bytes() const noexcept;
    // Payload bytes still free in the pool.
    size_t free_bytes() const noexcept;
    // The table's open queue (rows appended since its last seal()).
    BufferedTableStats stats(uint32_t table) const noexcept;
    // The table's sealed queue.
    BufferedTableStats sealed_stats(uint32_t table) const noexcept;
    // Every table, open and sealed.
    BufferedTableStats total() const noexcept;

    // Calls visit(const char *data, size_t len) for each contiguous span of the
    // table's bytes, oldest first.
    template <class Visit>
    void for_each_span(uint32_t table, Visit &&visit) const {
        for (uint32_t c = first_chunk(table); c != no_chunk; c = next_chunk(c))
            visit(chunk_data(c), chunk_used(c));
    }

    // The same for the table's sealed queue.
    template <class Visit>
    void for_each_sealed_span(uint32_t table, Visit &&visit) const {
        for (uint32_t c = first_sealed_chunk(table); c != no_chunk; c = next_chunk(c))
            visit(chunk_data(c), chunk_used(c));
    }

    // Moves the table's open queue to its sealed queue. Returns false, changing
    // nothing, if the sealed queue is not empty (release it first).
    bool seal(uint32_t table) noexcept;
    // Returns the table's sealed chunks to the pool.
    void release_sealed(uint32_t table) noexcept;

    // Returns all the table's chunks, open and sealed, to the pool.
    void clear(uint32_t table) noexcept;
    void clear_all() noexcept;

private:
    static constexpr uint32_t no_chunk = 0xFFFFFFFFu;
    explicit TableBuffers(void *region) noexcept : region_(region) {}
    uint32_t first_chunk(uint32_t table) const noexcept;
    uint32_t first_sealed_chunk(uint32_t table) const noexcept;
    uint32_t next_chunk(uint32_t chunk) const noexcept;
    const char *chunk_data(uint32_t chunk) const noexcept;
    uint32_t chunk_used(uint32_t chunk) const noexcept;

    void *region_;
};

} // namespace convoy
