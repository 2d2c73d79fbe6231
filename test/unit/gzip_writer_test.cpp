#include "core/compress/gzip_writer.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/error.hpp"
#include "test_support.hpp"

namespace {

using convoy::Error;
using convoy::ErrorKind;
using convoy::CompressOn;
using convoy::GzipWriter;
using convoy::test::gunzip;

// Collects what the writer hands over, remembering the size of each write.
class RecordingSink : public convoy::ByteSink {
public:
    void write(const uint8_t *data, size_t len) override {
        bytes.append(reinterpret_cast<const char *>(data), len);
        writes.push_back(len);
    }
    std::string bytes;
    std::vector<size_t> writes;
};

// Feeds data to the writer in pieces whose sizes cycle through odd values.
void write_in_odd_pieces(GzipWriter &gz, const std::string &data) {
    static const size_t sizes[] = {1, 7, 13, 4099, 65537, 3, 250001, 31};
    size_t pos = 0;
    for (size_t i = 0; pos < data.size(); i++) {
        size_t n = std::min(sizes[i % (sizeof(sizes) / sizeof(sizes[0]))], data.size() - pos);
        gz.write(std::string_view(data).substr(pos, n));
        pos += n;
    }
}

TEST(GzipWriter, SmallRoundTrip) {
    RecordingSink sink;
    GzipWriter gz(sink);
    const std::string text = "{\"id\": 1, \"name\": \"hello\"}\n";
    gz.write(text);
    gz.finish();
    EXPECT_EQ(gunzip(sink.bytes), text);
    EXPECT_EQ(gz.bytes_in(), text.size());
    EXPECT_EQ(gz.bytes_out(), sink.bytes.size());
    // A gzip member: magic bytes, deflate method.
    ASSERT_GE(sink.bytes.size(), 18u);
    EXPECT_EQ(static_cast<uint8_t>(sink.bytes[0]), 0x1f);
    EXPECT_EQ(static_cast<uint8_t>(sink.bytes[1]), 0x8b);
    EXPECT_EQ(static_cast<uint8_t>(sink.bytes[2]), 8);
}

TEST(GzipWriter, EmptyInputIsAValidMember) {
    RecordingSink sink;
    GzipWriter gz(sink);
    gz.write("");
    gz.finish();
    EXPECT_EQ(gunzip(sink.bytes), "");
    EXPECT_EQ(gz.bytes_in(), 0u);
    EXPECT_EQ(gz.bytes_out(), sink.bytes.size());
    EXPECT_GE(sink.bytes.size(), 18u); // header + trailer
}

TEST(GzipWriter, MultiMegabyteInOddPieces) {
    const std::string data = convoy::test::sample_rows(6 * 1024 * 1024) +
                             convoy::test::random_bytes(1024 * 1024 + 17);
    for (CompressOn on : {CompressOn::caller_and_helper, CompressOn::helper})
        for (int level : {1, 6, 9}) {
            RecordingSink sink;
            GzipWriter gz(sink, level, 64 * 1024, on);
            write_in_odd_pieces(gz, data);
            gz.finish();
            EXPECT_EQ(gz.bytes_in(), data.size());
            EXPECT_EQ(gz.bytes_out(), sink.bytes.size());
            EXPECT_LT(sink.bytes.size(), data.size()) << "level " << level;
            EXPECT_TRUE(gunzip(sink.bytes) == data) << "level " << level;
        }
}

TEST(GzipWriter, OneByteOutputBuffer) {
    const std::string data = convoy::test::sample_rows(200 * 1024);
    RecordingSink sink;
    GzipWriter gz(sink, 1, 1);
    write_in_odd_pieces(gz, data);
    gz.finish();
    EXPECT_TRUE(gunzip(sink.bytes) == data);
    ASSERT_FALSE(sink.writes.empty());
    for (size_t n : sink.writes)
        ASSERT_EQ(n, 1u);
    EXPECT_EQ(sink.writes.size(), sink.bytes.size());
}

TEST(GzipWriter, SixtyFourKiBOutputBuffer) {
    const std::string data = convoy::test::random_bytes(1024 * 1024);
    RecordingSink sink;
    GzipWriter gz(sink, 1, 64 * 1024);
    write_in_odd_pieces(gz, data);
    gz.finish();
    EXPECT_TRUE(gunzip(sink.bytes) == data);
    ASSERT_GE(sink.writes.size(), 2u);
    // Full buffers only, except the last.
    for (size_t i = 0; i + 1 < sink.writes.size(); i++)
        EXPECT_EQ(sink.writes[i], 64u * 1024) << "write " << i;
    EXPECT_GT(sink.writes.back(), 0u);
    EXPECT_LE(sink.writes.back(), 64u * 1024);
}

TEST(GzipWriter, SinkReceivesBytesBeforeFinish) {
    // 20 MB of incompressible input: a writer that buffered everything until
    // finish() would hold it all in memory.
    const std::string data = convoy::test::random_bytes(20 * 1000 * 1000, 42);
    RecordingSink sink;
    GzipWriter gz(sink);
    size_t max_pending = 0;
    for (size_t pos = 0; pos < data.size(); pos += 1000 * 1000) {
        gz.write(std::string_view(data).substr(pos, 1000 * 1000));
        // Whatever has gone in but not out is bounded by two 2 MiB blocks (one
        // being compressed on the helper thread), far below the input size.
        size_t pending = pos + 1000 * 1000 - std::min(sink.bytes.size(), pos + 1000 * 1000);
        max_pending = std::max(max_pending, pending);
    }
    size_t before_finish = sink.bytes.size();
    EXPECT_GT(before_finish, 15u * 1000 * 1000);
    EXPECT_LE(max_pending, 4u * 1024 * 1024);
    gz.finish();
    EXPECT_GT(sink.bytes.size(), before_finish);
    EXPECT_TRUE(gunzip(sink.bytes) == data);
}

TEST(GzipWriter, LargeInputIsSeveralMembersGunzipReads) {
    // Repetitive text, like JSON lines: 5 MB spans three members, which
    // together decompress to the input and compress it well.
    std::string data;
    while (data.size() < 5 * 1000 * 1000)
        data += "{\"id\":" + std::to_string(data.size()) + ",\"event_type\":\"invoice.paid\"}\n";
    RecordingSink sink;
    GzipWriter gz(sink);
    gz.write(data);
    gz.finish();
    size_t members = 0;
    for (size_t i = 0; i + 2 < sink.bytes.size(); i++)
        if (sink.bytes[i] == '\x1f' && sink.bytes[i + 1] == '\x8b' && sink.bytes[i + 2] == '\x08')
            members++;
    EXPECT_GE(members, 3u);
    EXPECT_LT(sink.bytes.size(), data.size() / 4);
    EXPECT_TRUE(gunzip(sink.bytes) == data);
}

TEST(GzipWriter, WholeBlocksRoundTripWithoutEmptyMembers) {
    // Exactly one, two and three blocks: the last full block may still be with
    // the helper thread when finish() comes.
    for (CompressOn on : {CompressOn::caller_and_helper, CompressOn::helper})
        for (size_t blocks = 1; blocks <= 3; blocks++) {
            const std::string data = convoy::test::random_bytes(blocks * 2 * 1024 * 1024, blocks);
            RecordingSink sink;
            GzipWriter gz(sink, 1, 64 * 1024, on);
            gz.write(data);
            gz.finish();
            EXPECT_TRUE(gunzip(sink.bytes) == data) << blocks << " blocks";
            EXPECT_EQ(gz.bytes_out(), sink.bytes.size());
            // Incompressible input: no member may be an empty one (20 bytes).
            EXPECT_GT(sink.bytes.size(), data.size());
        }
}

TEST(GzipWriter, DestroyedWhileCompressingLeavesNoThreadBehind) {
    const std::string data = convoy::test::random_bytes(3 * 1024 * 1024, 7);
    for (int i = 0; i < 20; i++) {
        RecordingSink sink;
        GzipWriter gz(sink, 1, 64 * 1024, i % 2 ? CompressOn::helper : CompressOn::caller_and_helper);
        gz.write(data); // one block is with the helper thread now
    }
    SUCCEED();
}

TEST(GzipWriter, WriteOrFinishAfterFinishThrows) {
    RecordingSink sink;
    GzipWriter gz(sink);
    gz.write("abc");
    gz.finish();
    size_t size = sink.bytes.size();
    try {
        gz.write("more");
        FAIL() << "write after finish did not throw";
    } catch (const Error &e) {
        EXPECT_EQ(e.kind(), ErrorKind::internal);
        EXPECT_STREQ(e.what(), "cannot write to a gzip stream that is already finished");
    }
    EXPECT_THROW(gz.finish(), Error);
    // Empty writes are refused too, and nothing reached the sink.
    EXPECT_THROW(gz.write(""), Error);
    EXPECT_EQ(sink.bytes.size(), size);
    EXPECT_EQ(gunzip(sink.bytes), "abc");
}

TEST(GzipWriter, SinkErrorsPropagate) {
    class FailingSink : public convoy::ByteSink {
    public:
        void write(const uint8_t *, size_t) override {
            throw Error(ErrorKind::storage_io, "could not write file \"x\": disk full");
        }
    } sink;
    GzipWriter gz(sink, 1, 16);
    try {
        gz.write(convoy::test::random_bytes(4096));
        gz.finish();
        FAIL() << "no error";
    } catch (const Error &e) {
        EXPECT_EQ(e.kind(), ErrorKind::storage_io);
    }
}

TEST(GzipWriter, InvalidLevelIsRefused) {
    RecordingSink sink;
    EXPECT_THROW(GzipWriter(sink, 42), Error);
}

} // namespace
