// A streamed GET of one stored object (an ObjectReader), for the S3 and Azure
// stores' open_read().
//
// - Memory: the body comes into one buffer of buffer_size bytes (never less
//   than the piece libcurl hands over, 16 KiB); when it is full the transfer is
//   paused (CURL_WRITEFUNC_PAUSE) until read() has taken everything out, so a
//   reader holds the buffer and libcurl's own receive buffer, whatever the
//   object's size.
// - Resuming: a connection failure or timeout in the middle of the body sends
//   a new request for the rest ("Range: bytes=N-"), conditional on the ETag of
//   the first reply (If-Match), and checks that the reply is that range of that
//   object (206, Content-Range, ETag): an object replaced in between is never
//   spliced onto the bytes already read (Error(storage_io)). An object whose
//   replies carry no ETag is not resumed.
// - Retries: as http::Client's (backoff with full jitter, Retry-After, the
//   same statuses and connection failures), at most options.retry.max_retries
//   in a row without a byte of progress: an attempt that delivered bytes
//   starts the count again, so a long object survives several dropped
//   connections.
// - Timeouts: connect_timeout_ms for each connection; request_timeout_ms is
//   the longest wait for the next bytes of a reply while read() waits for them.
//   The time the caller spends between read() calls does not count (a slow
//   consumer is not a slow store).
// - Cancellation: options.canceled is asked at each read() and between the
//   steps of a transfer; the request stops with Error(storage_io, "...: request
//   canceled").
// - Signals, TLS, proxies and messages: as http::Client (see http_client.hpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "core/storage/http/http_client.hpp"
#include "core/storage/storage.hpp"

#include "core/core_only.hpp"

namespace convoy::http {

// The connections (and name lookups and TLS sessions) that one store's
// downloads pass on to the next, so that reading many objects does not set up
// a connection for each. Used by one thread at a time, as a Client is.
class ConnectionPool {
public:
    ConnectionPool(); // throws Error(out_of_resources)
    ~ConnectionPool();
    ConnectionPool(const ConnectionPool &) = delete;
    ConnectionPool &operator=(const ConnectionPool &) = delete;
    void *handle() const noexcept { return share_; } // CURLSH *

private:
    void *share_;
};

// The request for an object's bytes from offset on. At offset 0 a plain GET;
// beyond it, one that asks for "bytes=<offset>-" (Range, or the store's own
// header) and only if the object's ETag is still etag (If-Match). Called for
// every attempt, so dates and signatures are fresh.
using RangeRequest = std::function<Request(uint64_t offset, const std::string &etag)>;

class Download final : public ObjectReader {
public:
    // Sends the first request and waits for its reply's headers (retrying as
    // described above). what ("could not read s3://b/k") starts every message;
    // a 404 throws Error(not_found, not_found_message). Other failures throw
    // what Client::send() would. pool, when not null, lends and takes back
    // connections.
    Download(ClientOptions options, size_t buffer_size, RangeRequest build, std::string what,
             std::string not_found_message, std::shared_ptr<ConnectionPool> pool = nullptr);
    ~Download() override;
    Download(const Download &) = delete;
    Download &operator=(const Download &) = delete;

    size_t read(uint8_t *buffer, size_t capacity) override;

    // The most body bytes the buffer held at once, and the requests sent so
    // far: for tests.
    size_t peak_buffered() const noexcept;
    int requests() const noexcept;

    struct State;

private:
    std::unique_ptr<State> state_;
};

} // namespace convoy::http
