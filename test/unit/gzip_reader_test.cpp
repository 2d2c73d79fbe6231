// GzipReader on what GzipWriter writes (one member per 2 MiB of input), and on
// streams that are truncated, corrupt or not gzip at all.
#include "core/read/gzip_reader.hpp"

#include <gtest/gtest.h>

#include <string>

#include "core/compress/gzip_writer.hpp"
#include "core/error.hpp"
#include "test_support.hpp"

namespace {

using convoy::Error;
using convoy::ErrorKind;
using convoy::GzipReader;
using convoy::GzipWriter;
using convoy::test::catch_error;
using convoy::test::read_all;
using convoy::test::StringReader;

class StringSink : public convoy::ByteSink {
public:
    void write(const uint8_t *data, size_t len) override {
        bytes.append(reinterpret_cast<const char *>(data), len);
    }
    std::string bytes;
};

std::string gzip(const std::string &text) {
    StringSink sink;
    GzipWriter gz(sink);
    gz.write(text);
    gz.finish();
    return sink.bytes;
}

// Decompresses compressed, handed over source_piece bytes at a time, reading
// out_chunk bytes at a time.
std::string inflate_all(const std::string &compressed, size_t source_piece, size_t in_buffer,
                        size_t out_chunk) {
    StringReader source(compressed, source_piece);
    GzipReader reader(source, in_buffer);
    std::string out = read_all(reader, out_chunk);
    EXPECT_EQ(reader.bytes_in(), compressed.size());
    EXPECT_EQ(reader.bytes_out(), out.size());
    EXPECT_EQ(reader.read(nullptr, 0), 0u);
    return out;
}

// Counts the gzip members of a stream (each starts with the magic bytes and
// ends where inflate says).
int members(const std::string &compressed) {
    int count = 0;
    for (size_t at = 0; at + 1 < compressed.size(); at++)
        if (static_cast<uint8_t>(compressed[at]) == 0x1f &&
            static_cast<uint8_t>(compressed[at + 1]) == 0x8b && compressed[at + 2] == 8)
            count++;
    return count; // an upper bound, but exact for compressible text
}

TEST(GzipReader, MultiMemberObjectOfGzipWriter) {
    // 5 MiB of rows: three members of 2, 2 and 1 MiB of input.
    std::string text = convoy::test::sample_rows(5 * 1024 * 1024 + 17);
    std::string compressed = gzip(text);
    ASSERT_GE(members(compressed), 3);
    EXPECT_TRUE(inflate_all(compressed, SIZE_MAX, 64 * 1024, 64 * 1024) == text);
    // Small and odd pieces on both sides: members end in the middle of a read.
    EXPECT_TRUE(inflate_all(compressed, 997, 4096, 1000) == text);
    EXPECT_TRUE(inflate_all(compressed, 65536, 333, 7 * 1024 * 1024) == text);
}

TEST(GzipReader, IncompressibleInputAcrossMembers) {
    std::string data = convoy::test::random_bytes(4 * 1024 * 1024 + 5);
    std::string compressed = gzip(data);
    EXPECT_TRUE(inflate_all(compressed, 10000, 8192, 3000) == data);
}

TEST(GzipReader, EmptyMemberIsAnEmptyObject) {
    std::string compressed = gzip("");
    ASSERT_FALSE(compressed.empty());
    EXPECT_EQ(inflate_all(compressed, 1, 1, 1), "");
}

TEST(GzipReader, ByteAtATime) {
    std::string text = convoy::test::sample_rows(20000);
    EXPECT_EQ(inflate_all(gzip(text), 1, 1, 1), text);
}

TEST(GzipReader, StreamsOfOtherWritersWithSeveralMembers) {
    // Two members written separately and concatenated, as `cat a.gz b.gz` makes.
    std::string a = gzip("first\n"), b = gzip("second\n");
    EXPECT_EQ(inflate_all(a + b, SIZE_MAX, 7, 4), "first\nsecond\n");
}

Error inflate_error(const std::string &compressed, size_t source_piece = SIZE_MAX) {
    return catch_error([&] {
        StringReader source(compressed, source_piece);
        GzipReader reader(source, 4096);
        read_all(reader, 4096);
    });
}

TEST(GzipReader, TruncatedObjectsAreCorrupt) {
    std::string text = convoy::test::sample_rows(3 * 1024 * 1024);
    std::string compressed = gzip(text);
    size_t first_member_end = compressed.find("\x1f\x8b\x08", 10);
    ASSERT_NE(first_member_end, std::string::npos);
    // In the first member's header, in its data, in its trailer, in the second
    // member, and one byte short of the end (the last length byte).
    for (size_t cut : {size_t(5), size_t(1000), first_member_end - 3, first_member_end + 7,
                       compressed.size() - 1}) {
        Error e = inflate_error(compressed.substr(0, cut), 1000);
        EXPECT_EQ(e.kind(), ErrorKind::corrupt_data) << cut;
        EXPECT_EQ(std::string(e.what()), "gzip data ends inside a member after " +
                                             std::to_string(cut) +
                                             " bytes: the object is truncated")
            << cut;
    }
}

TEST(GzipReader, EmptyObjectIsNotGzip) {
    Error e = inflate_error("");
    EXPECT_EQ(e.kind(), ErrorKind::corrupt_data);
    EXPECT_STREQ(e.what(), "object is empty, which is not valid gzip data");
}

TEST(GzipReader, CorruptBytesAreCaught) {
    std::string text = convoy::test::sample_rows(100000);
    std::string compressed = gzip(text);
    size_t n = compressed.size();

    Error not_gzip = inflate_error("{\"id\": 1}\n");
    EXPECT_EQ(not_gzip.kind(), ErrorKind::corrupt_data);
    EXPECT_STREQ(not_gzip.what(), "invalid gzip data at compressed byte 2: incorrect header check");

    std::string bad_crc = compressed;
    bad_crc[n - 6] ^= 0x01; // the CRC-32 is the trailer's first four bytes
    EXPECT_EQ(inflate_error(bad_crc).kind(), ErrorKind::corrupt_data);
    EXPECT_NE(std::string(inflate_error(bad_crc).what()).find("incorrect data check"),
              std::string::npos);

    std::string bad_length = compressed;
    bad_length[n - 2] ^= 0x01; // ISIZE: the uncompressed length
    EXPECT_NE(std::string(inflate_error(bad_length).what()).find("incorrect length check"),
              std::string::npos);

    // A flipped byte in the deflate data: invalid codes or a wrong CRC, but
    // never silently different rows.
    for (size_t at : {size_t(20), n / 3, n / 2}) {
        std::string flipped = compressed;
        flipped[at] ^= 0x5a;
        EXPECT_EQ(inflate_error(flipped).kind(), ErrorKind::corrupt_data) << at;
    }

    // Bytes after the last member are not a member.
    Error trailing = inflate_error(compressed + std::string(8, '\0'));
    EXPECT_EQ(trailing.kind(), ErrorKind::corrupt_data);
    EXPECT_NE(std::string(trailing.what()).find("at compressed byte " + std::to_string(n + 2) + ": incorrect header check"),
              std::string::npos)
        << trailing.what();
}

// The source's own failures (the store's) come through unchanged.
TEST(GzipReader, SourceErrorsPassThrough) {
    class Failing : public convoy::ObjectReader {
    public:
        size_t read(uint8_t *, size_t) override {
            throw Error(ErrorKind::storage_unavailable, "could not read s3://b/k: timed out");
        }
    } failing;
    GzipReader reader(failing);
    uint8_t buf[16];
    Error e = catch_error([&] { reader.read(buf, sizeof(buf)); });
    EXPECT_EQ(e.kind(), ErrorKind::storage_unavailable);
    EXPECT_STREQ(e.what(), "could not read s3://b/k: timed out");
}

} // namespace
