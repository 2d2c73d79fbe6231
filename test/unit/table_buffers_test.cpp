#include "core/batch/table_buffers.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

namespace {

using convoy::TableBuffers;

constexpr size_t chunk = TableBuffers::chunk_bytes;

// Memory standing in for the shared memory segment, aligned like it is.
class Region {
public:
    explicit Region(size_t size) : size_(size), mem_(static_cast<char *>(std::aligned_alloc(64, round(size)))) {
        // Garbage, so that format() is seen to initialise everything it needs.
        std::memset(mem_.get(), 0xA5, size_);
    }
    void *get() const { return mem_.get(); }
    size_t size() const { return size_; }

private:
    static size_t round(size_t n) { return (n + 63) / 64 * 64; }
    struct Free {
        void operator()(char *p) const { std::free(p); }
    };
    size_t size_;
    std::unique_ptr<char, Free> mem_;
};

std::string contents(const TableBuffers &b, uint32_t table, size_t *spans = nullptr) {
    std::string out;
    size_t n = 0;
    b.for_each_span(table, [&](const char *data, size_t len) {
        out.append(data, len);
        n++;
    });
    if (spans)
        *spans = n;
    return out;
}

bool append(TableBuffers &b, uint32_t table, const std::string &bytes, uint64_t rows = 1) {
    return b.append_rows(table, bytes.data(), bytes.size(), rows);
}

std::string row(uint64_t i, size_t len) {
    std::string r = "{\"n\":" + std::to_string(i) + ",\"pad\":\"";
    while (r.size() + 3 < len)
        r += static_cast<char>('a' + (i + r.size()) % 26);
    return r + "\"}\n";
}

// Payload bytes per chunk, as the pool reports it.
size_t payload_per_chunk(size_t nchunks) {
    Region r(TableBuffers::region_size(nchunks * chunk));
    TableBuffers b = TableBuffers::format(r.get(), nchunks * chunk);
    EXPECT_EQ(b.capacity_bytes() % nchunks, 0u);
    return b.capacity_bytes() / nchunks;
}

TEST(TableBuffers, RegionSizeRoundsDownToWholeChunksAtLeastTwo) {
    size_t two = TableBuffers::region_size(2 * chunk);
    EXPECT_EQ(TableBuffers::region_size(0), two);
    EXPECT_EQ(TableBuffers::region_size(1), two);
    EXPECT_EQ(TableBuffers::region_size(3 * chunk - 1), two);
    EXPECT_EQ(TableBuffers::region_size(3 * chunk), two + chunk);
    EXPECT_EQ(TableBuffers::region_size(100 * chunk + 12345), two + 98 * chunk);
    EXPECT_GT(two, 2 * chunk); // room for the header
    EXPECT_LT(two, 3 * chunk);
}

TEST(TableBuffers, CapacityOfAnEmptyPool) {
    for (size_t n : {2u, 3u, 17u}) {
        Region r(TableBuffers::region_size(n * chunk));
        TableBuffers b = TableBuffers::format(r.get(), n * chunk);
        size_t payload = payload_per_chunk(n);
        EXPECT_LT(payload, chunk);
        EXPECT_GE(payload, chunk - 64);
        EXPECT_EQ(b.capacity_bytes(), n * payload);
        EXPECT_EQ(b.free_bytes(), b.capacity_bytes());
        EXPECT_EQ(b.total().rows, 0u);
        EXPECT_EQ(b.total().bytes, 0u);
        for (uint32_t t = 0; t < TableBuffers::max_tables; t++) {
            EXPECT_EQ(contents(b, t), "");
            EXPECT_EQ(b.stats(t).rows, 0u);
        }
    }
}

TEST(TableBuffers, AttachSeesWhatFormatAndAppendLeft) {
    const size_t size = 4 * chunk;
    Region r(TableBuffers::region_size(size));
    TableBuffers b = TableBuffers::format(r.get(), size);
    std::string data = row(1, 100) + row(2, 70000);
    ASSERT_TRUE(append(b, 7, data, 2));

    TableBuffers same = TableBuffers::attach(r.get());
    EXPECT_EQ(contents(same, 7), data);
    EXPECT_EQ(same.stats(7).rows, 2u);
    EXPECT_EQ(same.free_bytes(), b.free_bytes());

    // A copy at another address works as well: the region holds no pointers.
    Region copy(r.size());
    std::memcpy(copy.get(), r.get(), r.size());
    TableBuffers moved = TableBuffers::attach(copy.get());
    EXPECT_EQ(contents(moved, 7), data);
    EXPECT_EQ(moved.stats(7).bytes, data.size());
    EXPECT_EQ(moved.capacity_bytes(), b.capacity_bytes());
    ASSERT_TRUE(append(moved, 7, "x\n"));
    EXPECT_EQ(contents(moved, 7), data + "x\n");
    EXPECT_EQ(contents(b, 7), data); // the original is unaffected

    // Changes made through one view are seen through another of the same region.
    ASSERT_TRUE(append(same, 8, "y\n"));
    EXPECT_EQ(contents(b, 8), "y\n");
    b.clear(7);
    EXPECT_EQ(contents(same, 7), "");
}

TEST(TableBuffers, AppendAcrossChunkBoundariesKeepsBytesAndOrder) {
    const size_t n = 8;
    Region r(TableBuffers::region_size(n * chunk));
    TableBuffers b = TableBuffers::format(r.get(), n * chunk);
    const size_t payload = b.capacity_bytes() / n;

    std::string expected;
    uint64_t rows = 0;
    // Sizes chosen so rows straddle boundaries, including one row longer than a
    // whole chunk (it spans three).
    for (size_t len : {10u, 65000u, 1000u, 3u, 140000u, 77u, 65519u, 1u, 2u}) {
        std::string r1 = row(rows, len);
        ASSERT_TRUE(append(b, 3, r1)) << len;
        expected += r1;
        rows++;
    }
    size_t spans = 0;
    EXPECT_TRUE(contents(b, 3, &spans) == expected);
    EXPECT_EQ(spans, (expected.size() + payload - 1) / payload);
    // Every span but the last is a full chunk.
    size_t i = 0;
    b.for_each_span(3, [&](const char *, size_t len) {
        if (++i < spans)
            EXPECT_EQ(len, payload);
        else
            EXPECT_EQ(len, expected.size() - (spans - 1) * payload);
    });
    EXPECT_EQ(b.stats(3).rows, rows);
    EXPECT_EQ(b.stats(3).bytes, expected.size());
    EXPECT_EQ(b.free_bytes(), (n - spans) * payload);
}

TEST(TableBuffers, FullPoolRefusesAllOrNothing) {
    Region r(TableBuffers::region_size(2 * chunk));
    TableBuffers b = TableBuffers::format(r.get(), 2 * chunk);
    const size_t payload = b.capacity_bytes() / 2;

    std::string first = row(0, payload + 10); // one full chunk and 10 bytes of the next
    ASSERT_TRUE(append(b, 0, first));
    EXPECT_EQ(b.free_bytes(), 0u);
    const size_t room = payload - 10; // left in table 0's last chunk

    // Too big by one byte: refused, and nothing changes.
    std::string too_big(room + 1, 'z');
    EXPECT_FALSE(append(b, 0, too_big, 5));
    EXPECT_EQ(b.stats(0).rows, 1u);
    EXPECT_EQ(b.stats(0).bytes, first.size());
    EXPECT_TRUE(contents(b, 0) == first);
    EXPECT_EQ(b.free_bytes(), 0u);

    // Another table has no room at all: the space left belongs to table 0's chunk.
    EXPECT_FALSE(append(b, 1, "a\n"));
    EXPECT_EQ(b.stats(1).rows, 0u);
    EXPECT_EQ(contents(b, 1), "");

    // Exactly what is left fits.
    std::string fits(room, 'w');
    EXPECT_TRUE(append(b, 0, fits, 3));
    EXPECT_EQ(b.stats(0).rows, 4u);
    EXPECT_TRUE(contents(b, 0) == first + fits);
    EXPECT_FALSE(append(b, 0, "x"));
    EXPECT_EQ(b.total().bytes, b.capacity_bytes());
}

TEST(TableBuffers, RunLargerThanCapacityIsRefused) {
    Region r(TableBuffers::region_size(3 * chunk));
    TableBuffers b = TableBuffers::format(r.get(), 3 * chunk);
    std::string huge(b.capacity_bytes() + 1, 'h');
    EXPECT_FALSE(append(b, 0, huge));
    EXPECT_EQ(b.free_bytes(), b.capacity_bytes());
    EXPECT_EQ(b.total().rows, 0u);
    EXPECT_FALSE(b.append_rows(0, huge.data(), SIZE_MAX, 1)); // no overflow in the check
    EXPECT_EQ(b.free_bytes(), b.capacity_bytes());

    huge.pop_back(); // exactly the capacity fits
    EXPECT_TRUE(append(b, 0, huge));
    EXPECT_EQ(b.free_bytes(), 0u);
    EXPECT_TRUE(contents(b, 0) == huge);
}

TEST(TableBuffers, InterleavedTables) {
    Region r(TableBuffers::region_size(16 * chunk));
    TableBuffers b = TableBuffers::format(r.get(), 16 * chunk);
    const uint32_t tables[] = {0, 5, 63};
    std::string expected[3];
    for (uint64_t i = 0; i < 300; i++) {
        size_t k = i % 3;
        std::string r1 = row(i, 50 + (i * 977) % 3000);
        ASSERT_TRUE(append(b, tables[k], r1));
        expected[k] += r1;
    }
    uint64_t bytes = 0;
    for (size_t k = 0; k < 3; k++) {
        EXPECT_TRUE(contents(b, tables[k]) == expected[k]) << "table " << tables[k];
        EXPECT_EQ(b.stats(tables[k]).rows, 100u);
        EXPECT_EQ(b.stats(tables[k]).bytes, expected[k].size());
        bytes += expected[k].size();
    }
    EXPECT_EQ(contents(b, 1), "");
    EXPECT_EQ(b.total().rows, 300u);
    EXPECT_EQ(b.total().bytes, bytes);
}

TEST(TableBuffers, ClearReturnsSpace) {
    Region r(TableBuffers::region_size(6 * chunk));
    TableBuffers b = TableBuffers::format(r.get(), 6 * chunk);
    const size_t payload = b.capacity_bytes() / 6;

    std::string a = row(1, 2 * payload + 5); // 3 chunks
    std::string c = row(2, payload);         // 1 chunk
    ASSERT_TRUE(append(b, 1, a, 10));
    ASSERT_TRUE(append(b, 2, c, 20));
    EXPECT_EQ(b.free_bytes(), 2 * payload);
    EXPECT_EQ(b.total().rows, 30u);

    b.clear(1);
    EXPECT_EQ(b.free_bytes(), 5 * payload);
    EXPECT_EQ(contents(b, 1), "");
    EXPECT_EQ(b.stats(1).rows, 0u);
    EXPECT_EQ(b.stats(1).bytes, 0u);
    EXPECT_TRUE(contents(b, 2) == c); // untouched
    EXPECT_EQ(b.total().rows, 20u);
    EXPECT_EQ(b.total().bytes, c.size());

    // The freed chunks are usable by any table, up to the whole pool minus table 2.
    std::string big(5 * payload, 'q');
    ASSERT_TRUE(append(b, 9, big));
    EXPECT_TRUE(contents(b, 9) == big);
    EXPECT_EQ(b.free_bytes(), 0u);

    b.clear(1); // clearing an empty table changes nothing
    EXPECT_EQ(b.free_bytes(), 0u);

    b.clear_all();
    EXPECT_EQ(b.free_bytes(), b.capacity_bytes());
    EXPECT_EQ(b.total().rows, 0u);
    EXPECT_EQ(b.total().bytes, 0u);
    EXPECT_EQ(contents(b, 2), "");
    EXPECT_EQ(contents(b, 9), "");
    std::string all(b.capacity_bytes(), 'e');
    EXPECT_TRUE(append(b, 0, all));
}

std::string sealed_contents(const TableBuffers &b, uint32_t table) {
    std::string out;
    b.for_each_sealed_span(table, [&](const char *data, size_t len) { out.append(data, len); });
    return out;
}

TEST(TableBuffers, SealKeepsBytesWhileAppendsGoOn) {
    Region r(TableBuffers::region_size(6 * chunk));
    TableBuffers b = TableBuffers::format(r.get(), 6 * chunk);
    const size_t payload = b.capacity_bytes() / 6;

    std::string first = row(1, payload + 10); // 2 chunks, the second partly filled
    ASSERT_TRUE(append(b, 3, first, 7));
    ASSERT_TRUE(b.seal(3));
    EXPECT_EQ(b.stats(3).rows, 0u);
    EXPECT_EQ(b.sealed_stats(3).rows, 7u);
    EXPECT_EQ(b.sealed_stats(3).bytes, first.size());
    EXPECT_EQ(b.total().rows, 7u);

    // New rows start a chunk of their own: the sealed tail's room stays unused.
    std::string second = row(2, 100);
    ASSERT_TRUE(append(b, 3, second, 1));
    EXPECT_EQ(b.free_bytes(), 3 * payload);
    EXPECT_TRUE(sealed_contents(b, 3) == first);
    EXPECT_TRUE(contents(b, 3) == second);
    EXPECT_EQ(b.total().rows, 8u);

    // One sealed queue per table: a second seal waits for the release.
    EXPECT_FALSE(b.seal(3));
    EXPECT_TRUE(contents(b, 3) == second);

    b.release_sealed(3);
    EXPECT_EQ(b.free_bytes(), 5 * payload);
    EXPECT_EQ(sealed_contents(b, 3), "");
    EXPECT_EQ(b.sealed_stats(3).rows, 0u);
    EXPECT_TRUE(contents(b, 3) == second);
    ASSERT_TRUE(b.seal(3));
    EXPECT_TRUE(sealed_contents(b, 3) == second);

    // Sealing an empty queue is allowed and seals nothing.
    b.release_sealed(3);
    ASSERT_TRUE(b.seal(3));
    EXPECT_EQ(b.sealed_stats(3).rows, 0u);
    EXPECT_EQ(b.free_bytes(), b.capacity_bytes());

    // clear() returns both queues.
    ASSERT_TRUE(append(b, 4, first, 1));
    b.release_sealed(4);
    ASSERT_TRUE(b.seal(4));
    ASSERT_TRUE(append(b, 4, second, 1));
    b.clear(4);
    EXPECT_EQ(b.free_bytes(), b.capacity_bytes());
    EXPECT_EQ(b.total().rows, 0u);
    EXPECT_FALSE(b.seal(TableBuffers::max_tables));
}

TEST(TableBuffers, OutOfRangeTableIsHarmless) {
    Region r(TableBuffers::region_size(2 * chunk));
    TableBuffers b = TableBuffers::format(r.get(), 2 * chunk);
    EXPECT_FALSE(append(b, TableBuffers::max_tables, "x\n"));
    EXPECT_EQ(b.stats(TableBuffers::max_tables).rows, 0u);
    EXPECT_EQ(contents(b, TableBuffers::max_tables), "");
    b.clear(TableBuffers::max_tables);
    EXPECT_EQ(b.free_bytes(), b.capacity_bytes());
}

TEST(TableBuffers, EmptyAppendCountsRowsOnly) {
    Region r(TableBuffers::region_size(2 * chunk));
    TableBuffers b = TableBuffers::format(r.get(), 2 * chunk);
    EXPECT_TRUE(b.append_rows(4, "", 0, 0));
    EXPECT_EQ(b.free_bytes(), b.capacity_bytes());
    EXPECT_EQ(contents(b, 4), "");
}

// Random appends and clears checked against a model: a table's bytes fill
// chunks in order, so it uses ceil(bytes / payload) of them, and an append fits
// exactly when it fits in its last chunk's room plus the free chunks.
TEST(TableBuffers, RandomisedAgainstAModel) {
    const size_t n = 12;
    Region r(TableBuffers::region_size(n * chunk));
    TableBuffers b = TableBuffers::format(r.get(), n * chunk);
    const size_t payload = b.capacity_bytes() / n;

    std::mt19937_64 rng(12345);
    std::vector<std::string> model(TableBuffers::max_tables);
    std::vector<uint64_t> rows(TableBuffers::max_tables);
    auto chunks_of = [&](size_t bytes) { return (bytes + payload - 1) / payload; };
    uint64_t counter = 0;
    for (int step = 0; step < 4000; step++) {
        uint32_t t = static_cast<uint32_t>(rng() % 6) * 11; // tables 0, 11, ..., 55
        if (rng() % 10 == 0) {
            b.clear(t);
            model[t].clear();
            rows[t] = 0;
        } else {
            size_t len = rng() % 4 == 0 ? 1 + rng() % (3 * payload) : 1 + rng() % 2000;
            std::string data = row(counter++, len);
            size_t used_chunks = 0;
            for (const std::string &m : model)
                used_chunks += chunks_of(m.size());
            size_t free_chunks = n - used_chunks;
            ASSERT_EQ(b.free_bytes(), free_chunks * payload);
            size_t room = chunks_of(model[t].size()) * payload - model[t].size();
            bool should_fit = data.size() <= room + free_chunks * payload;
            ASSERT_EQ(append(b, t, data, 2), should_fit) << "step " << step;
            if (should_fit) {
                model[t] += data;
                rows[t] += 2;
            }
        }
        if (step % 97 == 0) {
            for (uint32_t k = 0; k < TableBuffers::max_tables; k++) {
                ASSERT_TRUE(contents(b, k) == model[k]) << "table " << k << " step " << step;
                ASSERT_EQ(b.stats(k).rows, rows[k]);
                ASSERT_EQ(b.stats(k).bytes, model[k].size());
            }
        }
    }
}

} // namespace
