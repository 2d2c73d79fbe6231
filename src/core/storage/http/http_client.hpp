// A small synchronous HTTP client on libcurl's easy interface, for the object
// stores: one request at a time from memory, with retries.
//
// - TLS peers are verified unless options say otherwise; ca_file replaces the
//   system trust store.
// - Connection failures, timeouts, 408, 429 and 5xx are retried with exponential
//   backoff and full jitter (a Retry-After in seconds is honoured up to the
//   maximum delay); other statuses are returned at once.
// - Messages never contain a URL's query string (it may hold a SAS signature)
//   nor any header sent.
// - HTTP/1.1 only; redirects are not followed; only http and https URLs. libcurl
//   honours the usual proxy environment variables (https_proxy, no_proxy).
// - No threads are started by this code, and libcurl never raises signals
//   (CURLOPT_NOSIGNAL). libcurl's threaded resolver (Debian's build has it; see
//   CURL_VERSION_ASYNCHDNS) starts a thread for each host name it resolves, the
//   server's or a proxy's, and a thread inherits its creator's signal mask: the
//   calling thread blocks every signal from the moment a resolution starts until
//   the transfer step that started it returns, so PostgreSQL's signal handlers
//   never run on such a thread. Transfers are driven step by step (the multi
//   interface) for this; between steps, while waiting for the network, the
//   caller's own mask applies, so its handlers run and a cancel they request
//   stops the transfer at once.
//
// A Client keeps one connection open between requests; it is not thread-safe.
// Object bodies are read with http::Download (download.hpp), which streams them
// under the same rules.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "core/core_only.hpp"

namespace convoy::http {

struct Header {
    std::string name;
    std::string value;
};

struct Request {
    std::string method; // GET, HEAD, PUT, POST or DELETE
    std::string url;    // with its query; never shown in messages
    std::vector<Header> headers;
    // The body, not copied; must outlive send(). PUT and POST always send a
    // Content-Length (0 without a body).
    const uint8_t *body = nullptr;
    size_t body_len = 0;
    // The most of the reply's body kept (Response::body_truncated beyond it);
    // 0: ClientOptions::max_response_body. Listings ask for more.
    size_t max_response_body = 0;
};

struct Response {
    long status = 0;
    std::vector<Header> headers; // of the final response (not of a 100 Continue)
    std::string body;            // at most ClientOptions::max_response_body bytes
    bool body_truncated = false;
    int attempts = 0; // how many attempts send() made

    // The value of the last header with this name (case-insensitive), or nullptr.
    const std::string *header(std::string_view name) const;
};

struct RetryPolicy {
    int max_retries = 4;       // attempts = max_retries + 1
    long base_delay_ms = 200;  // the first retry waits up to this long
    long max_delay_ms = 20000; // no wait is longer than this
};

struct ClientOptions {
    bool verify_tls = true;
    std::string ca_file;              // PEM bundle; empty = the system's
    long connect_timeout_ms = 10000;  // to set up TCP and TLS
    long request_timeout_ms = 300000; // one whole attempt, body transfer included
    RetryPolicy retry;
    size_t max_response_body = 1 << 20;
    // Polled during transfers and between attempts; when it returns true the
    // request stops with Error(storage_io, "...: request canceled").
    std::function<bool()> canceled;
};

// Options for one best-effort request that must go out even after the work it
// cleans up after was canceled (aborting a canceled multipart upload): those of
// options, but without the cancel check and with a short time limit instead,
// at most two attempts of cleanup_attempt_timeout_ms (about 10 s in all).
ClientOptions cleanup_options(const ClientOptions &options);
constexpr long cleanup_attempt_timeout_ms = 4000;

namespace detail {
struct Attempt;
}

// Initialises libcurl once per process (curl_global_init is not thread-safe; it
// is done under std::call_once). Called by Client's constructor.
void global_init();

class Client {
public:
    explicit Client(ClientOptions options);
    ~Client();
    Client(const Client &) = delete;
    Client &operator=(const Client &) = delete;

    // Sends build()'s request, retrying as described above; build() is called
    // again for each attempt, so dates and signatures are fresh. Returns the last
    // response whatever its status. Throws Error when no response could be had:
    // storage_unavailable after the last retry of a connection failure or timeout,
    // invalid_config for an unreadable CA file, storage_io for anything else.
    // what ("could not upload object \"k\" to s3://b/p") starts the message.
    // policy, when given, replaces options().retry for this call.
    Response send(const std::function<Request()> &build, const std::string &what,
                  const RetryPolicy *policy = nullptr);

    const ClientOptions &options() const noexcept { return options_; }

private:
    void perform(const Request &request, detail::Attempt &attempt);
    void run_transfer(detail::Attempt &attempt);
    void free_handles() noexcept;
    void wait_before_retry(const RetryPolicy &policy, int attempt, const Response *response,
                           const std::string &what);

    ClientOptions options_;
    void *curl_ = nullptr;  // CURL *
    void *multi_ = nullptr; // CURLM *, through which curl_ runs
    std::mt19937_64 random_;
};

// Statuses worth retrying: 408, 429 and 5xx.
bool retryable_status(long status);

// The service's error code and message, from an S3 or Azure XML error body or
// the x-amz-error-code / x-ms-error-code headers. The message is cut to its first
// line and to a few hundred bytes, and anything that looks like a signature or
// token is masked.
struct ServiceError {
    std::string code;
    std::string message;
};
ServiceError service_error(const Response &response);

// Throws the Error for a response with a non-success status: storage_auth for 401
// and 403, storage_unavailable for 408, 429 and 5xx, storage_io otherwise.
[[noreturn]] void throw_status_error(const Response &response, const std::string &what);

// Masks values that must never reach a message: SAS "sig", X-Amz-Signature,
// X-Amz-Security-Token, X-Amz-Credential, Signature=, SharedKey and
// AWS4-HMAC-SHA256 authorizations. Also drops control characters.
std::string redact(std::string_view text);

} // namespace convoy::http
