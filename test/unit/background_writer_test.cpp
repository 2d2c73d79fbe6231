#include "core/batch/background_writer.hpp"

#include <gtest/gtest.h>
#include <poll.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "core/catalog/manifest.hpp"
#include "core/error.hpp"
#include "core/storage/sign/crypto.hpp"
#include "core/storage/local/local_storage.hpp"
#include "test_support.hpp"

namespace {

using convoy::BackgroundWriter;
using convoy::ByteSpan;
using convoy::JobOutcome;
using convoy::ObjectJob;
using convoy::test::gunzip;
using convoy::test::read_file;
using convoy::test::TempDir;

// A LocalStorage that refuses one key.
class RefusingStorage : public convoy::LocalStorage {
public:
    RefusingStorage(const std::string &root, std::string refused)
        : LocalStorage(root), refused_(std::move(refused)) {}
    std::unique_ptr<convoy::ObjectUpload> begin_upload(const std::string &key) override {
        if (key == refused_)
            throw convoy::Error(convoy::ErrorKind::storage_unavailable, "store is down");
        return LocalStorage::begin_upload(key);
    }

private:
    std::string refused_;
};

convoy::Manifest manifest_of(const std::string &key, uint64_t rows) {
    convoy::Manifest m;
    m.key = key;
    m.table = "convoy.events";
    m.rows = rows;
    m.first_commit_lsn = m.last_commit_lsn = 0x16B3748;
    m.time_column = "created_at";
    return m;
}

uint64_t lines_in(const std::string &bytes) {
    return uint64_t(std::count(bytes.begin(), bytes.end(), '\n'));
}

// A job whose spans point into parts, which must outlive it.
ObjectJob job_of(const std::string &key, const std::vector<std::string> &parts) {
    ObjectJob job{manifest_of(key, 0), {}};
    for (const std::string &part : parts) {
        job.spans.push_back(ByteSpan{part.data(), part.size()});
        job.manifest.rows += lines_in(part);
    }
    return job;
}

ObjectJob job_of(const std::string &key, const std::string &bytes) {
    return ObjectJob{manifest_of(key, lines_in(bytes)), {ByteSpan{bytes.data(), bytes.size()}}};
}

// The manifest stored next to the object key under dir.
convoy::Manifest stored_manifest(const TempDir &dir, const std::string &key) {
    return convoy::manifest_from_json(read_file(dir / convoy::manifest_key(key)));
}

bool readable(int fd, int timeout_ms) {
    struct pollfd p{fd, POLLIN, 0};
    return ::poll(&p, 1, timeout_ms) == 1 && (p.revents & POLLIN);
}

TEST(BackgroundWriter, WritesEveryObjectInOrder) {
    TempDir dir;
    auto store = std::make_shared<convoy::LocalStorage>(dir.path());
    const std::string a = convoy::test::sample_rows(5 * 1024 * 1024), b = "{\"b\": 1}\n", c = "";
    BackgroundWriter writer;
    EXPECT_FALSE(writer.busy());
    // The spans point into these strings: they live until collect().
    const std::vector<std::string> a_parts{a.substr(0, 1000), a.substr(1000)};
    std::vector<ObjectJob> jobs;
    jobs.push_back(job_of("t1/a.jsonl.gz", a_parts));
    jobs.push_back(job_of("t2/b.jsonl.gz", b));
    jobs.push_back(job_of("t3/c.jsonl.gz", c));
    writer.start(store, std::move(jobs));
    EXPECT_TRUE(writer.busy());
    EXPECT_TRUE(readable(writer.wake_fd(), 60 * 1000));
    ASSERT_TRUE(writer.finished());
    JobOutcome outcome = writer.collect();
    EXPECT_FALSE(outcome.error);
    ASSERT_EQ(outcome.written.size(), 3u);
    EXPECT_EQ(outcome.written[0].key, "t1/a.jsonl.gz");
    EXPECT_EQ(outcome.written[0].raw_bytes, a.size());
    EXPECT_TRUE(gunzip(read_file(dir / "t1/a.jsonl.gz")) == a);
    EXPECT_EQ(gunzip(read_file(dir / "t2/b.jsonl.gz")), b);
    EXPECT_EQ(gunzip(read_file(dir / "t3/c.jsonl.gz")), c);
    // Each object has its manifest, describing exactly what was stored.
    for (const convoy::ObjectWritten &w : outcome.written) {
        convoy::Manifest m = stored_manifest(dir, w.key);
        std::string stored = read_file(dir / w.key);
        EXPECT_EQ(m.key, w.key);
        EXPECT_EQ(m.raw_bytes, w.raw_bytes);
        EXPECT_EQ(m.stored_bytes, stored.size());
        EXPECT_EQ(m.sha256, convoy::crypto::hex(convoy::crypto::sha256(stored)));
        EXPECT_EQ(m.rows, lines_in(gunzip(stored)));
    }
    // Collected: idle again, and the wake-up was consumed.
    EXPECT_FALSE(writer.busy());
    EXPECT_FALSE(writer.finished());
    EXPECT_FALSE(readable(writer.wake_fd(), 0));
}

TEST(BackgroundWriter, StopsAtTheFirstFailureAndRunsTheNextJob) {
    TempDir dir;
    auto store = std::make_shared<RefusingStorage>(dir.path(), "t2/b.jsonl.gz");
    const std::string a = "{\"a\": 1}\n", b = "{\"b\": 2}\n";
    BackgroundWriter writer;
    std::vector<ObjectJob> jobs;
    jobs.push_back(job_of("t1/a.jsonl.gz", a));
    jobs.push_back(job_of("t2/b.jsonl.gz", b));
    jobs.push_back(job_of("t3/c.jsonl.gz", a));
    writer.start(store, std::move(jobs));
    writer.wait();
    JobOutcome outcome = writer.collect();
    ASSERT_EQ(outcome.written.size(), 1u);
    ASSERT_TRUE(outcome.error);
    convoy::Error e = convoy::test::catch_error([&] { std::rethrow_exception(outcome.error); });
    EXPECT_EQ(e.kind(), convoy::ErrorKind::storage_unavailable);
    EXPECT_FALSE(convoy::test::exists(dir / "t3/c.jsonl.gz"));

    // The caller retries what is left, here against a store that works.
    auto good = std::make_shared<convoy::LocalStorage>(dir.path());
    std::vector<ObjectJob> rest;
    rest.push_back(job_of("t2/b.jsonl.gz", b));
    rest.push_back(job_of("t3/c.jsonl.gz", a));
    writer.start(good, std::move(rest));
    writer.wait();
    outcome = writer.collect();
    EXPECT_FALSE(outcome.error);
    EXPECT_EQ(outcome.written.size(), 2u);
    EXPECT_EQ(gunzip(read_file(dir / "t2/b.jsonl.gz")), b);
}

// A manifest that cannot be written fails its object: it does not count as
// written, nothing after it is written, and the retry writes both.
TEST(BackgroundWriter, AFailedManifestFailsItsObject) {
    TempDir dir;
    auto store = std::make_shared<RefusingStorage>(dir.path(), "t2/b.manifest.json");
    const std::string a = "{\"a\": 1}\n", b = "{\"b\": 2}\n";
    BackgroundWriter writer;
    std::vector<ObjectJob> jobs;
    jobs.push_back(job_of("t1/a.jsonl.gz", a));
    jobs.push_back(job_of("t2/b.jsonl.gz", b));
    jobs.push_back(job_of("t3/c.jsonl.gz", a));
    writer.start(store, std::move(jobs));
    writer.wait();
    JobOutcome outcome = writer.collect();
    ASSERT_EQ(outcome.written.size(), 1u);
    ASSERT_TRUE(outcome.error);
    EXPECT_TRUE(convoy::test::exists(dir / "t1/a.manifest.json"));
    EXPECT_FALSE(convoy::test::exists(dir / "t2/b.manifest.json"));
    EXPECT_FALSE(convoy::test::exists(dir / "t3/c.jsonl.gz"));

    auto good = std::make_shared<convoy::LocalStorage>(dir.path());
    std::vector<ObjectJob> rest;
    rest.push_back(job_of("t2/b.jsonl.gz", b));
    rest.push_back(job_of("t3/c.jsonl.gz", a));
    writer.start(good, std::move(rest));
    writer.wait();
    outcome = writer.collect();
    EXPECT_FALSE(outcome.error);
    EXPECT_EQ(outcome.written.size(), 2u);
    EXPECT_EQ(stored_manifest(dir, "t2/b.jsonl.gz").rows, 1u);
    EXPECT_EQ(stored_manifest(dir, "t3/c.jsonl.gz").rows, 1u);
}

TEST(BackgroundWriter, OneJobAtATime) {
    TempDir dir;
    auto store = std::make_shared<convoy::LocalStorage>(dir.path());
    BackgroundWriter writer;
    EXPECT_EQ(convoy::test::catch_error([&] { writer.collect(); }).kind(),
              convoy::ErrorKind::internal);
    writer.start(store, {});
    EXPECT_EQ(convoy::test::catch_error([&] { writer.start(store, {}); }).kind(),
              convoy::ErrorKind::internal);
    writer.wait();
    EXPECT_TRUE(writer.collect().written.empty());
    writer.wait(); // idle: returns at once
}

TEST(BackgroundWriter, DestructionWaitsForTheRunningJob) {
    TempDir dir;
    auto store = std::make_shared<convoy::LocalStorage>(dir.path());
    const std::string a = convoy::test::sample_rows(8 * 1024 * 1024);
    {
        BackgroundWriter writer;
        std::vector<ObjectJob> jobs;
        jobs.push_back(job_of("t/a.jsonl.gz", a));
        writer.start(store, std::move(jobs));
    }
    EXPECT_TRUE(gunzip(read_file(dir / "t/a.jsonl.gz")) == a);
}

} // namespace
