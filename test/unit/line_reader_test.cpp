// LineReader: JSON Lines split from a stream read in pieces, with a bound on
// line length and truncation caught.
#include "core/read/line_reader.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/compress/gzip_writer.hpp"
#include "core/error.hpp"
#include "core/read/gzip_reader.hpp"
#include "test_support.hpp"

namespace {

using convoy::Error;
using convoy::ErrorKind;
using convoy::LineReader;
using convoy::test::catch_error;
using convoy::test::StringReader;

using Lines = std::vector<std::string>;

Lines all_lines(const std::string &text, size_t max_line, size_t read_buffer, size_t piece,
                std::vector<uint64_t> *numbers = nullptr) {
    StringReader source(text, piece);
    LineReader reader(source, max_line, read_buffer);
    Lines out;
    std::string_view line;
    while (reader.next(line)) {
        out.emplace_back(line);
        if (numbers)
            numbers->push_back(reader.line_number());
    }
    EXPECT_FALSE(reader.next(line)); // and stays at the end
    return out;
}

TEST(LineReader, SplitsLinesAndCountsThem) {
    std::vector<uint64_t> numbers;
    EXPECT_EQ(all_lines("{\"a\":1}\n\n{\"b\":2}\n", 100, 256 * 1024, SIZE_MAX, &numbers),
              (Lines{"{\"a\":1}", "", "{\"b\":2}"}));
    EXPECT_EQ(numbers, (std::vector<uint64_t>{1, 2, 3}));
    EXPECT_EQ(all_lines("", 100, 16, SIZE_MAX), Lines{});
}

TEST(LineReader, TinyBuffersAndPieces) {
    std::string text = convoy::test::sample_rows(20000);
    Lines expected;
    for (size_t pos = 0; pos < text.size();) {
        size_t nl = text.find('\n', pos);
        expected.push_back(text.substr(pos, nl - pos));
        pos = nl + 1;
    }
    EXPECT_EQ(all_lines(text, 1000, 1, 1), expected);
    EXPECT_EQ(all_lines(text, 1000, 7, 3), expected);
    EXPECT_EQ(all_lines(text, 1000, 4096, 1000), expected);
}

TEST(LineReader, LineOfExactlyTheLimitIsAccepted) {
    std::string limit(50, 'x');
    EXPECT_EQ(all_lines("a\n" + limit + "\nb\n", 50, 8, 5), (Lines{"a", limit, "b"}));
}

TEST(LineReader, LongerLineIsCorrupt) {
    std::string longer(51, 'x');
    // Found whole in the buffer, or still without its end when the limit passes.
    for (size_t read_buffer : {size_t(4096), size_t(8)}) {
        StringReader source("a\n" + longer + "\nb\n");
        LineReader reader(source, 50, read_buffer);
        std::string_view line;
        ASSERT_TRUE(reader.next(line));
        Error e = catch_error([&] { reader.next(line); });
        EXPECT_EQ(e.kind(), ErrorKind::corrupt_data);
        EXPECT_STREQ(e.what(), "line 2 is longer than 50 bytes");
    }
}

// A line with no end stops being read once it passes the limit: memory stays
// bounded by the limit and one buffer, however long the line.
TEST(LineReader, EndlessLineStopsAtTheLimit) {
    std::string huge(10 * 1024 * 1024, 'y');
    StringReader source(huge, 1000);
    LineReader reader(source, 4096, 1000);
    std::string_view line;
    EXPECT_EQ(catch_error([&] { reader.next(line); }).kind(), ErrorKind::corrupt_data);
    EXPECT_LE(source.calls, 6);
}

TEST(LineReader, MissingFinalNewlineMeansTruncated) {
    StringReader source("{\"a\":1}\n{\"b\":2}\n{\"c\":");
    LineReader reader(source, 100, 4);
    std::string_view line;
    ASSERT_TRUE(reader.next(line));
    ASSERT_TRUE(reader.next(line));
    EXPECT_EQ(line, "{\"b\":2}");
    Error e = catch_error([&] { reader.next(line); });
    EXPECT_EQ(e.kind(), ErrorKind::corrupt_data);
    EXPECT_STREQ(e.what(), "line 3 has no end of line: the object is truncated");
}

// The whole read path of a backup object: gzip members, then lines.
TEST(LineReader, OverGzipReader) {
    class Sink : public convoy::ByteSink {
    public:
        void write(const uint8_t *d, size_t n) override {
            bytes.append(reinterpret_cast<const char *>(d), n);
        }
        std::string bytes;
    } sink;
    std::string text = convoy::test::sample_rows(4 * 1024 * 1024);
    convoy::GzipWriter gz(sink);
    gz.write(text);
    gz.finish();
    StringReader compressed(sink.bytes, 10000);
    convoy::GzipReader inflated(compressed, 8192);
    LineReader reader(inflated, 1024, 5000);
    std::string_view line;
    std::string joined;
    while (reader.next(line)) {
        joined.append(line);
        joined += '\n';
    }
    EXPECT_TRUE(joined == text);
    EXPECT_EQ(reader.line_number(), static_cast<uint64_t>(std::count(text.begin(), text.end(), '\n')));
}

} // namespace
