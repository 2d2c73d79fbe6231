#include "core/batch/gzip_object.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/batch/object_key.hpp"
#include "core/batch/table_buffers.hpp"
#include "core/error.hpp"
#include "core/storage/sign/crypto.hpp"
#include "core/storage/local/local_storage.hpp"
#include "test_support.hpp"

namespace {

using convoy::LocalStorage;
using convoy::ObjectWritten;
using convoy::write_gzip_object;
using convoy::test::list_files;
using convoy::test::read_file;
using convoy::test::TempDir;

TEST(WriteGzipObject, RoundTripThroughLocalStorage) {
    TempDir dir;
    LocalStorage store(dir.path());
    const std::string key =
        convoy::object_key({"convoy.events", 1795586500123456, 0x16B3748, 0});
    const std::string a = convoy::test::sample_rows(3 * 1024 * 1024);
    const std::string b = "{\"last\": true}\n";

    ObjectWritten w = write_gzip_object(store, key, [&](auto &&emit) {
        emit(a.data(), a.size());
        emit("", 0);
        emit(b.data(), b.size());
    });
    EXPECT_EQ(w.key, key);
    EXPECT_EQ(w.raw_bytes, a.size() + b.size());
    std::string stored = read_file(dir / key);
    EXPECT_EQ(w.compressed_bytes, stored.size());
    EXPECT_TRUE(convoy::test::gunzip(stored) == a + b);
    EXPECT_EQ(list_files(dir.path()), std::vector<std::string>{key});
}

// The checksum is of the bytes as stored, computed while they were uploaded.
TEST(WriteGzipObject, Sha256IsOfTheStoredBytes) {
    TempDir dir;
    LocalStorage store(dir.path());
    // Several gzip members (2 MiB of input each) reach the sink in pieces.
    const std::string rows = convoy::test::sample_rows(5 * 1024 * 1024);
    ObjectWritten w = write_gzip_object(store, "t/obj.jsonl.gz", [&](auto &&emit) {
        emit(rows.data(), rows.size());
    });
    std::string stored = read_file(dir / "t/obj.jsonl.gz");
    EXPECT_EQ(w.sha256, convoy::crypto::hex(convoy::crypto::sha256(stored)));
    EXPECT_EQ(w.compressed_bytes, stored.size());

    ObjectWritten empty = write_gzip_object(store, "t/empty.jsonl.gz", [](auto &&) {});
    EXPECT_EQ(empty.sha256,
              convoy::crypto::hex(convoy::crypto::sha256(read_file(dir / "t/empty.jsonl.gz"))));
}

TEST(WriteGzipObject, FromTableBuffers) {
    TempDir dir;
    LocalStorage store(dir.path());
    using convoy::TableBuffers;
    const size_t size = 8 * TableBuffers::chunk_bytes;
    std::unique_ptr<char, decltype(&std::free)> region(
        static_cast<char *>(std::aligned_alloc(64, TableBuffers::region_size(size))), &std::free);
    TableBuffers buffers = TableBuffers::format(region.get(), size);
    std::string rows = convoy::test::sample_rows(300 * 1024);
    ASSERT_TRUE(buffers.append_rows(2, rows.data(), rows.size(), 1));

    ObjectWritten w = write_gzip_object(store, "t/obj.jsonl.gz", [&](auto &&emit) {
        buffers.for_each_span(2, emit);
    }, 6);
    EXPECT_EQ(w.raw_bytes, rows.size());
    EXPECT_TRUE(convoy::test::gunzip(read_file(dir / "t/obj.jsonl.gz")) == rows);
}

TEST(WriteGzipObject, ProducerThrowingLeavesNoObject) {
    TempDir dir;
    LocalStorage store(dir.path());
    const std::string data = convoy::test::random_bytes(2 * 1024 * 1024);
    EXPECT_THROW(write_gzip_object(store, "a/b/obj.jsonl.gz",
                                   [&](auto &&emit) {
                                       emit(data.data(), data.size());
                                       throw std::runtime_error("producer failed");
                                   }),
                 std::runtime_error);
    // Nothing at the key, no temporary file left behind.
    EXPECT_EQ(list_files(dir.path()), std::vector<std::string>{});
}

TEST(WriteGzipObject, FailedReplaceKeepsThePreviousObject) {
    TempDir dir;
    LocalStorage store(dir.path());
    write_gzip_object(store, "obj", [](auto &&emit) { emit("v1\n", 3); });
    try {
        write_gzip_object(store, "obj", [](auto &&emit) {
            emit("v2\n", 3);
            throw convoy::Error(convoy::ErrorKind::internal, "boom");
        });
        FAIL() << "no error";
    } catch (const convoy::Error &e) {
        EXPECT_STREQ(e.what(), "boom");
    }
    EXPECT_EQ(convoy::test::gunzip(read_file(dir / "obj")), "v1\n");
    EXPECT_EQ(list_files(dir.path()), std::vector<std::string>{"obj"});
}

TEST(WriteGzipObject, InvalidKeyIsRefusedBeforeProducing) {
    TempDir dir;
    LocalStorage store(dir.path());
    bool called = false;
    try {
        write_gzip_object(store, "../escape", [&](auto &&) { called = true; });
        FAIL() << "no error";
    } catch (const convoy::Error &e) {
        EXPECT_EQ(e.kind(), convoy::ErrorKind::invalid_key);
    }
    EXPECT_FALSE(called);
}

} // namespace
