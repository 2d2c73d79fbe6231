// http::Download: a streamed GET with a bounded buffer, resumed with Range and
// If-Match after a lost connection, and never spliced onto a replaced object.
#include "core/storage/http/download.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/error.hpp"
#include "fake_http_server.hpp"
#include "test_support.hpp"

namespace {

using convoy::Error;
using convoy::ErrorKind;
using convoy::test::catch_error;
using convoy::test::FakeHttpServer;
using convoy::test::FakeRequest;
using convoy::test::FakeResponse;
using convoy::test::read_all;
namespace http = convoy::http;
using Clock = std::chrono::steady_clock;

// An object a scripted server serves: GET, and "Range: bytes=N-" honoured
// unless If-Match names another ETag. script(n, reply) may change the reply
// to the n-th request (from 0).
struct ObjectServer {
    std::string bytes;
    std::string etag = "\"v1\"";
    std::function<void(int, FakeResponse &)> script;
    std::atomic<int> count{0};
    FakeHttpServer server{[this](const FakeRequest &req) { return reply(req); }};

    FakeResponse reply(const FakeRequest &req) {
        int n = count++;
        FakeResponse r;
        r.headers = {{"ETag", etag}};
        std::string range = req.header_or("Range");
        const std::string *match = req.header("If-Match");
        if (match != nullptr && *match != etag) {
            r.status = 412;
        } else if (range.empty()) {
            r.body = bytes;
        } else {
            size_t from = std::stoull(range.substr(6));
            r.status = 206;
            r.body = bytes.substr(from);
            r.headers.push_back({"Content-Range", "bytes " + std::to_string(from) + "-" +
                                                      std::to_string(bytes.size() - 1) + "/" +
                                                      std::to_string(bytes.size())});
        }
        if (script)
            script(n, r);
        return r;
    }

    http::RangeRequest request() const {
        std::string url = server.url() + "/bucket/object";
        return [url](uint64_t offset, const std::string &etag) {
            http::Request r;
            r.method = "GET";
            r.url = url;
            if (offset > 0) {
                r.headers.push_back({"Range", "bytes=" + std::to_string(offset) + "-"});
                r.headers.push_back({"If-Match", etag});
            }
            return r;
        };
    }
};

http::ClientOptions fast_options() {
    http::ClientOptions o;
    o.retry.max_retries = 2;
    o.retry.base_delay_ms = 1;
    o.retry.max_delay_ms = 5;
    o.request_timeout_ms = 5000;
    return o;
}

std::unique_ptr<http::Download> open(ObjectServer &object, size_t buffer,
                                     http::ClientOptions options = fast_options()) {
    return std::make_unique<http::Download>(options, buffer, object.request(),
                                            "could not read s3://bucket/object",
                                            "object \"object\" does not exist in s3://bucket");
}

TEST(HttpDownload, LargeObjectThroughASmallBuffer) {
    ObjectServer object;
    object.bytes = convoy::test::random_bytes(8 * 1024 * 1024 + 3);
    auto reader = open(object, 4096);
    EXPECT_TRUE(read_all(*reader, 1000) == object.bytes);
    // The buffer never held more than one piece of libcurl's (16 KiB), however
    // large the object: the transfer waited for the reader.
    EXPECT_GT(reader->peak_buffered(), 0u);
    EXPECT_LE(reader->peak_buffered(), 16u * 1024);
    EXPECT_EQ(reader->requests(), 1);
    uint8_t b;
    EXPECT_EQ(reader->read(&b, 1), 0u);

    auto larger = open(object, 256 * 1024);
    EXPECT_TRUE(read_all(*larger, 64 * 1024) == object.bytes);
    EXPECT_LE(larger->peak_buffered(), 256u * 1024);
}

// Reads of one store pass their connection on: many small objects do not cost
// a connection each.
TEST(HttpDownload, PoolReusesConnections) {
    ObjectServer object;
    object.bytes = "0123456789";
    auto pool = std::make_shared<http::ConnectionPool>();
    for (int i = 0; i < 3; i++) {
        http::Download d(fast_options(), 4096, object.request(), "could not read", "no", pool);
        EXPECT_EQ(read_all(d), object.bytes);
    }
    EXPECT_EQ(object.server.connections(), 1);
    // An abandoned read does not hand on its half-read connection.
    object.bytes = convoy::test::random_bytes(4 * 1024 * 1024);
    {
        http::Download d(fast_options(), 4096, object.request(), "could not read", "no", pool);
        uint8_t b[100];
        d.read(b, sizeof(b));
    }
    http::Download d(fast_options(), 4096, object.request(), "could not read", "no", pool);
    EXPECT_TRUE(read_all(d) == object.bytes);
    EXPECT_EQ(object.server.connections(), 2);
    // Without a pool, each read has its own.
    for (int i = 0; i < 2; i++) {
        http::Download own(fast_options(), 4096, object.request(), "could not read", "no");
        read_all(own);
    }
    EXPECT_EQ(object.server.connections(), 4);
}

TEST(HttpDownload, EmptyObject) {
    ObjectServer object;
    auto reader = open(object, 4096);
    uint8_t b;
    EXPECT_EQ(reader->read(&b, 1), 0u);
}

TEST(HttpDownload, LostConnectionResumesWithRangeAndIfMatch) {
    ObjectServer object;
    object.bytes = convoy::test::random_bytes(4 * 1024 * 1024);
    // Every reply but the last is cut after 700 KB: five lost connections,
    // more than max_retries (2), but each made progress.
    object.script = [&](int n, FakeResponse &r) {
        if (n < 5)
            r.cut_body_at = 700 * 1000;
    };
    auto reader = open(object, 64 * 1024);
    EXPECT_TRUE(read_all(*reader, 10000) == object.bytes);
    EXPECT_EQ(reader->requests(), 6);
    auto reqs = object.server.requests();
    ASSERT_EQ(reqs.size(), 6u);
    EXPECT_EQ(reqs[0].header("Range"), nullptr);
    EXPECT_EQ(reqs[0].header("If-Match"), nullptr);
    for (size_t i = 1; i < reqs.size(); i++) {
        EXPECT_EQ(reqs[i].header_or("Range"), "bytes=" + std::to_string(i * 700 * 1000) + "-");
        EXPECT_EQ(reqs[i].header_or("If-Match"), "\"v1\"");
    }
}

TEST(HttpDownload, RepeatedFailuresWithoutProgressGiveUp) {
    ObjectServer object;
    object.bytes = std::string(100000, 'x');
    object.script = [&](int n, FakeResponse &r) { r.cut_body_at = n == 0 ? 5000 : 0; };
    auto reader = open(object, 4096);
    Error e = catch_error([&] { read_all(*reader); });
    EXPECT_EQ(e.kind(), ErrorKind::storage_unavailable);
    EXPECT_EQ(e.detail(), "Gave up after 3 attempts.");
    // The attempt that made progress, then max_retries (2) that made none.
    EXPECT_EQ(object.count.load(), 3);
    // The reader stays failed.
    EXPECT_STREQ(catch_error([&] { read_all(*reader); }).what(), e.what());
}

TEST(HttpDownload, ReplacedObjectIsNeverSpliced) {
    ObjectServer object;
    object.bytes = convoy::test::random_bytes(200000);
    object.script = [&](int n, FakeResponse &r) {
        if (n == 0) {
            r.cut_body_at = 50000;
            object.etag = "\"v2\""; // replaced while the first reply was on its way
        }
    };
    auto reader = open(object, 4096);
    Error e = catch_error([&] { read_all(*reader); });
    EXPECT_EQ(e.kind(), ErrorKind::storage_io);
    EXPECT_STREQ(e.what(), "could not read s3://bucket/object: the object changed while it was read");
    EXPECT_EQ(e.detail(), "Its ETag is no longer \"v1\".");
}

// A store that ignores If-Match is caught by the ETag of its reply.
TEST(HttpDownload, ChangedETagOfARangeReplyIsRefused) {
    ObjectServer object;
    object.bytes = convoy::test::random_bytes(200000);
    object.script = [&](int n, FakeResponse &r) {
        if (n == 0)
            r.cut_body_at = 50000;
        else
            r.headers[0].second = "\"v3\"";
    };
    auto reader = open(object, 4096);
    Error e = catch_error([&] { read_all(*reader); });
    EXPECT_EQ(e.kind(), ErrorKind::storage_io);
    EXPECT_STREQ(e.what(), "could not read s3://bucket/object: the object changed while it was read");
    EXPECT_EQ(e.detail(), "Its ETag was \"v1\" and is now \"v3\".");
}

TEST(HttpDownload, IgnoredRangeIsRefused) {
    ObjectServer object;
    object.bytes = convoy::test::random_bytes(200000);
    object.script = [&](int n, FakeResponse &r) {
        if (n == 0) {
            r.cut_body_at = 50000;
        } else { // the whole object again
            r.status = 200;
            r.body = object.bytes;
            r.headers.resize(1);
        }
    };
    auto reader = open(object, 4096);
    Error e = catch_error([&] { read_all(*reader); });
    EXPECT_EQ(e.kind(), ErrorKind::storage_io);
    EXPECT_STREQ(e.what(), "could not read s3://bucket/object: the store sent HTTP status 200 "
                           "instead of the rest of the object from byte 50000");
}

TEST(HttpDownload, NoETagNoResume) {
    ObjectServer object;
    object.bytes = convoy::test::random_bytes(200000);
    object.script = [&](int n, FakeResponse &r) {
        r.headers.clear();
        if (n == 0)
            r.cut_body_at = 50000;
    };
    auto reader = open(object, 4096);
    Error e = catch_error([&] { read_all(*reader); });
    EXPECT_EQ(e.kind(), ErrorKind::storage_io);
    EXPECT_EQ(e.detail(), "The store gave no ETag for the object, so reading could not resume "
                          "where the connection was lost.");
    EXPECT_EQ(object.count.load(), 1);
}

TEST(HttpDownload, MissingObjectIsNotFound) {
    ObjectServer object;
    object.script = [](int, FakeResponse &r) {
        r.status = 404;
        r.body = "<Error><Code>NoSuchKey</Code></Error>";
    };
    Error e = catch_error([&] { open(object, 4096); });
    EXPECT_EQ(e.kind(), ErrorKind::not_found);
    EXPECT_STREQ(e.what(), "object \"object\" does not exist in s3://bucket");
    EXPECT_EQ(object.count.load(), 1);
}

TEST(HttpDownload, ServerErrorsAreRetriedThenReported) {
    ObjectServer object;
    object.bytes = "payload";
    object.script = [](int n, FakeResponse &r) {
        if (n < 2) {
            r.status = 503;
            r.body = "<Error><Code>SlowDown</Code><Message>Please reduce your request rate."
                     "</Message></Error>";
        }
    };
    auto reader = open(object, 4096);
    EXPECT_EQ(read_all(*reader), "payload");
    EXPECT_EQ(reader->requests(), 3);

    ObjectServer down;
    down.script = [](int, FakeResponse &r) {
        r.status = 503;
        r.body = "<Error><Code>SlowDown</Code><Message>Please reduce your request rate."
                 "</Message></Error>";
    };
    Error e = catch_error([&] { open(down, 4096); });
    EXPECT_EQ(e.kind(), ErrorKind::storage_unavailable);
    EXPECT_STREQ(e.what(), "could not read s3://bucket/object: HTTP status 503 (SlowDown)");
    EXPECT_EQ(e.detail(),
              "The service said: Please reduce your request rate. Gave up after 3 attempts.");
}

TEST(HttpDownload, AuthFailureIsNotRetried) {
    ObjectServer object;
    object.script = [](int, FakeResponse &r) {
        r.status = 403;
        r.body = "<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>";
    };
    Error e = catch_error([&] { open(object, 4096); });
    EXPECT_EQ(e.kind(), ErrorKind::storage_auth);
    EXPECT_EQ(object.count.load(), 1);
}

// A store gone silent in the middle of a body: the wait for the next bytes is
// bounded by request_timeout_ms, and the read resumes on a new connection.
TEST(HttpDownload, SilentStoreTimesOutAndResumes) {
    ObjectServer object;
    object.bytes = convoy::test::random_bytes(500000);
    object.script = [](int n, FakeResponse &r) {
        if (n == 0) {
            r.cut_body_at = 100000;
            r.stall_ms = 10000;
        }
    };
    http::ClientOptions options = fast_options();
    options.request_timeout_ms = 300;
    auto start = Clock::now();
    auto reader = open(object, 4096, options);
    EXPECT_TRUE(read_all(*reader) == object.bytes);
    EXPECT_LT(Clock::now() - start, std::chrono::seconds(3));
    EXPECT_EQ(reader->requests(), 2);
}

// The time the caller spends between reads is not the store's.
TEST(HttpDownload, SlowReaderIsNotTimedOut) {
    ObjectServer object;
    object.bytes = convoy::test::random_bytes(2 * 1024 * 1024);
    http::ClientOptions options = fast_options();
    options.request_timeout_ms = 200;
    auto reader = open(object, 16 * 1024, options);
    std::string got;
    std::vector<uint8_t> buf(300 * 1024);
    for (int i = 0; i < 3; i++) {
        size_t n = reader->read(buf.data(), buf.size());
        got.append(reinterpret_cast<const char *>(buf.data()), n);
        std::this_thread::sleep_for(std::chrono::milliseconds(400));
    }
    got += read_all(*reader);
    EXPECT_TRUE(got == object.bytes);
    EXPECT_EQ(reader->requests(), 1);
}

TEST(HttpDownload, CancelStopsAReadInProgress) {
    ObjectServer object;
    object.bytes = convoy::test::random_bytes(4 * 1024 * 1024);
    std::atomic<bool> canceled{false};
    http::ClientOptions options = fast_options();
    options.canceled = [&] { return canceled.load(); };
    auto reader = open(object, 16 * 1024, options);
    uint8_t buf[4096];
    EXPECT_EQ(reader->read(buf, sizeof(buf)), sizeof(buf));
    canceled = true;
    Error e = catch_error([&] { reader->read(buf, sizeof(buf)); });
    EXPECT_EQ(e.kind(), ErrorKind::storage_io);
    EXPECT_STREQ(e.what(), "could not read s3://bucket/object: request canceled");
}

TEST(HttpDownload, CancelWhileWaitingForTheStore) {
    ObjectServer object;
    object.script = [](int, FakeResponse &r) { r.delay_ms = 10000; };
    std::atomic<bool> canceled{false};
    http::ClientOptions options = fast_options();
    options.request_timeout_ms = 60000;
    options.canceled = [&] { return canceled.load(); };
    std::thread canceler([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        canceled = true;
    });
    auto start = Clock::now();
    Error e = catch_error([&] { open(object, 4096, options); });
    canceler.join();
    EXPECT_STREQ(e.what(), "could not read s3://bucket/object: request canceled");
    EXPECT_LT(Clock::now() - start, std::chrono::seconds(3));
}

TEST(HttpDownload, UnreachableStoreIsUnavailable) {
    http::RangeRequest build = [](uint64_t, const std::string &) {
        http::Request r;
        r.method = "GET";
        r.url = "http://127.0.0.1:" + std::to_string(FakeHttpServer::closed_port()) + "/k";
        return r;
    };
    Error e = catch_error(
        [&] { http::Download d(fast_options(), 4096, build, "could not read k", "no k"); });
    EXPECT_EQ(e.kind(), ErrorKind::storage_unavailable);
    EXPECT_EQ(e.detail(), "Gave up after 3 attempts.");
}

} // namespace
