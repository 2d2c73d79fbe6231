#include "core/storage/http/download.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <random>
#include <vector>

#include "core/error.hpp"
#include "core/storage/http/transfer.hpp"

namespace convoy::http {

namespace {

using Clock = std::chrono::steady_clock;

// libcurl's receive buffer: as large as ours, within what libcurl allows.
constexpr long min_receive_buffer = 1024;
constexpr long max_receive_buffer = 256 * 1024;

bool parse_u64(std::string_view text, uint64_t &out) {
    if (text.empty() || text.size() > 19)
        return false;
    uint64_t v = 0;
    for (char c : text) {
        if (c < '0' || c > '9')
            return false;
        v = v * 10 + static_cast<uint64_t>(c - '0');
    }
    out = v;
    return true;
}

} // namespace

ConnectionPool::ConnectionPool() : share_(nullptr) {
    global_init();
    CURLSH *share = curl_share_init();
    if (share == nullptr)
        throw Error(ErrorKind::out_of_resources, "could not create an HTTP connection pool");
    curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
    curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
    curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
    share_ = share;
}

ConnectionPool::~ConnectionPool() { curl_share_cleanup(static_cast<CURLSH *>(share_)); }

struct Download::State {
    // Destroyed last: the handles below use it until ~State() frees them.
    std::shared_ptr<ConnectionPool> pool;
    ClientOptions options;
    RangeRequest build;
    std::string what;
    std::string not_found_message;
    CURL *curl = nullptr;
    CURLM *multi = nullptr;
    std::mt19937_64 random{std::random_device{}()};
    SignalBlock resolver_signals;
    char error[CURL_ERROR_SIZE] = "";
    Request request;
    curl_slist *header_list = nullptr;
    int requests = 0;
    std::optional<Error> failure; // what a read() threw, thrown again

    // The object, as the first reply described it.
    std::string etag;
    bool size_known = false;
    uint64_t size = 0;
    uint64_t offset = 0; // body bytes received so far, in the buffer or handed out
    bool complete = false;

    // The buffer: body bytes in [begin, end).
    std::vector<uint8_t> buffer;
    size_t begin = 0, end = 0;
    size_t peak = 0;
    bool paused = false;

    // The current attempt.
    enum class Phase { idle, running, ended } phase = Phase::idle;
    bool attached = false; // curl is in multi
    CURLcode result = CURLE_OK;
    bool headers_done = false;
    bool streaming = false; // a 2xx reply: the body goes to the buffer
    Response reply;         // status, headers, and the body of any other reply
    uint64_t attempt_offset = 0;
    Clock::time_point last_activity;
    int failures = 0; // attempts in a row that failed without progress

    ~State() {
        detach();
        if (multi != nullptr)
            curl_multi_cleanup(multi);
        if (curl != nullptr)
            curl_easy_cleanup(curl);
        curl_slist_free_all(header_list);
    }

    void start_transfer();
    void detach() noexcept;
    void end_transfer(CURLcode code) noexcept;
    void step();
    void begin_body();
    void check_reply();
    void after_failure(CURLcode code);
    void backoff(const Response *response);
    size_t read(uint8_t *out, size_t capacity);
};

namespace {

size_t on_header(char *data, size_t size, size_t nmemb, void *user) {
    auto *s = static_cast<Download::State *>(user);
    size_t n = size * nmemb;
    std::string_view line(data, n);
    long status = transfer::parse_header_line(line, s->reply.headers);
    if (status >= 0) {
        s->reply.status = status;
    } else if (transfer::trim(line).empty() && s->reply.status >= 200) {
        // The end of the final reply's headers (not those of a 100 Continue).
        s->headers_done = true;
        s->streaming = s->reply.status < 300;
    }
    s->last_activity = Clock::now();
    return n;
}

size_t on_body(char *data, size_t size, size_t nmemb, void *user) {
    auto *s = static_cast<Download::State *>(user);
    size_t n = size * nmemb;
    s->last_activity = Clock::now();
    if (!s->streaming) {
        Response &r = s->reply;
        size_t max = s->options.max_response_body;
        size_t room = max > r.body.size() ? max - r.body.size() : 0;
        if (n > room)
            r.body_truncated = true;
        r.body.append(data, std::min(n, room));
        return n;
    }
    std::vector<uint8_t> &buf = s->buffer;
    if (n > buf.size() - s->end) {
        if (s->begin > 0) {
            std::memmove(buf.data(), buf.data() + s->begin, s->end - s->begin);
            s->end -= s->begin;
            s->begin = 0;
        }
        if (n > buf.size() - s->end) {
            if (s->end > 0) {
                // Full: libcurl keeps this piece and stops reading the socket
                // until read() has emptied the buffer.
                s->paused = true;
                return CURL_WRITEFUNC_PAUSE;
            }
            buf.resize(n); // one piece larger than the whole buffer
        }
    }
    std::memcpy(buf.data() + s->end, data, n);
    s->end += n;
    s->offset += n;
    s->peak = std::max(s->peak, s->end - s->begin);
    return n;
}

int on_progress(void *user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
    auto *s = static_cast<Download::State *>(user);
    return (s->options.canceled && s->options.canceled()) ? 1 : 0;
}

} // namespace

void Download::State::start_transfer() {
    if (options.canceled && options.canceled())
        transfer::throw_canceled(what);
    request = build(offset, etag);
    requests++;
    curl_slist_free_all(header_list);
    header_list = nullptr;
    transfer::append_headers(header_list, request.headers);

    result = CURLE_OK;
    headers_done = streaming = paused = false;
    reply = Response{};
    reply.attempts = failures + 1;
    error[0] = '\0';
    attempt_offset = offset;

    curl_easy_reset(curl);
    curl_easy_setopt(curl, CURLOPT_URL, request.url.c_str());
    transfer::set_common_options(curl, options, error, &resolver_signals);
    if (pool)
        curl_easy_setopt(curl, CURLOPT_SHARE, static_cast<CURLSH *>(pool->handle()));
    // No limit on the whole transfer: the caller's time between reads would
    // count. step() limits each wait for bytes instead.
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 0L);
    long receive_buffer = buffer.size() > static_cast<size_t>(max_receive_buffer)
                              ? max_receive_buffer
                              : std::max(min_receive_buffer, static_cast<long>(buffer.size()));
    curl_easy_setopt(curl, CURLOPT_BUFFERSIZE, receive_buffer);
    curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, header_list);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, this);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, this);
    if (options.canceled) {
        curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
        curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, on_progress);
        curl_easy_setopt(curl, CURLOPT_XFERINFODATA, this);
    }
    CURLMcode added = curl_multi_add_handle(multi, curl);
    if (added != CURLM_OK) {
        CURLcode code = transfer::multi_failure_code(added, error);
        transfer::throw_failure(code, transfer::failure_reason(code, error, request.url), what, 1);
    }
    attached = true;
    phase = Phase::running;
    last_activity = Clock::now();
}

void Download::State::detach() noexcept {
    if (attached)
        curl_multi_remove_handle(multi, curl);
    attached = false;
    paused = false;
}

void Download::State::end_transfer(CURLcode code) noexcept {
    detach();
    result = code;
    phase = Phase::ended;
}

// One step of the running transfer, as Client::run_transfer() takes them (a
// step that started a name resolution ran with every signal blocked; they are
// unblocked again before waiting). When the transfer ends, phase becomes
// ended, with its result in result.
void Download::State::step() {
    if (options.canceled && options.canceled()) {
        detach();
        transfer::throw_canceled(what);
    }
    int still_running = 0;
    CURLMcode mc = curl_multi_perform(multi, &still_running);
    resolver_signals.restore();
    if (mc != CURLM_OK)
        return end_transfer(transfer::multi_failure_code(mc, error));
    if (!still_running)
        return end_transfer(transfer::finished_code(multi));
    if (paused || begin < end)
        return; // bytes for the caller
    long waited = static_cast<long>(
        std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - last_activity).count());
    long left = options.request_timeout_ms - waited;
    if (options.request_timeout_ms > 0 && left <= 0) {
        std::snprintf(error, sizeof(error), "no data received for %ld ms",
                      options.request_timeout_ms);
        return end_transfer(CURLE_OPERATION_TIMEDOUT);
    }
    int wait = transfer::step_wait_ms;
    if (options.request_timeout_ms > 0 && left < wait)
        wait = static_cast<int>(left);
    mc = curl_multi_poll(multi, nullptr, 0, wait, nullptr);
    if (mc != CURLM_OK)
        end_transfer(transfer::multi_failure_code(mc, error));
}

void Download::State::backoff(const Response *response) {
    failures++;
    transfer::sleep_unless_canceled(
        transfer::retry_delay_ms(options.retry, failures, response, random), options, what);
}

// A failed attempt (no reply, or a reply cut short): after the backoff, phase
// is idle for another one; or the error.
void Download::State::after_failure(CURLcode code) {
    if (code == CURLE_ABORTED_BY_CALLBACK)
        transfer::throw_canceled(what);
    std::string reason = transfer::failure_reason(code, error, request.url);
    if (!transfer::retryable(code) || failures >= std::max(0, options.retry.max_retries))
        transfer::throw_failure(code, reason, what, failures + 1);
    if (offset > 0 && etag.empty())
        throw Error(ErrorKind::storage_io, what + ": " + reason,
                    "The store gave no ETag for the object, so reading could not resume "
                    "where the connection was lost.");
    backoff(nullptr);
    phase = Phase::idle;
}

// Sends requests until a reply has a body to stream, and checks that reply;
// throws when there will be none.
void Download::State::begin_body() {
    for (;;) {
        start_transfer();
        while (phase == Phase::running && !(headers_done && streaming))
            step();
        if (headers_done && streaming) {
            check_reply(); // the transfer may have ended already: read() sees to it
            return;
        }
        if (result != CURLE_OK) {
            after_failure(result);
            continue;
        }
        // A whole reply without a body for us.
        long status = reply.status;
        if (status == 404)
            throw Error(ErrorKind::not_found, not_found_message,
                        offset > 0 ? "It was deleted while it was being read." : "");
        if (status == 412)
            throw Error(ErrorKind::storage_io, what + ": the object changed while it was read",
                        "Its ETag is no longer " + etag + ".");
        if (retryable_status(status) && failures < std::max(0, options.retry.max_retries)) {
            backoff(&reply);
            phase = Phase::idle;
            continue;
        }
        throw_status_error(reply, what);
    }
}

void Download::State::check_reply() {
    auto refuse = [&](const std::string &problem, const std::string &detail = {}) {
        detach();
        throw Error(ErrorKind::storage_io, what + ": " + problem, detail);
    };
    long status = reply.status;
    const std::string *reply_etag = reply.header("etag");
    if (attempt_offset == 0) {
        if (status != 200)
            refuse("unexpected HTTP status " + std::to_string(status));
        etag = reply_etag != nullptr ? *reply_etag : "";
        const std::string *length = reply.header("content-length");
        size_known = length != nullptr && parse_u64(*length, size);
        return;
    }
    if (status != 206)
        refuse("the store sent HTTP status " + std::to_string(status) +
               " instead of the rest of the object from byte " + std::to_string(attempt_offset));
    if (reply_etag == nullptr || *reply_etag != etag)
        refuse("the object changed while it was read",
               "Its ETag was " + etag + " and is now " +
                   (reply_etag != nullptr ? *reply_etag : std::string("absent")) + ".");
    // "bytes 100-199/200"
    const std::string *range = reply.header("content-range");
    std::string_view r = range != nullptr ? std::string_view(*range) : std::string_view();
    uint64_t first = 0, total = 0;
    size_t dash = r.find('-'), slash = r.find('/');
    bool parsed = r.compare(0, 6, "bytes ") == 0 && dash != std::string_view::npos &&
                  slash != std::string_view::npos && dash < slash &&
                  parse_u64(r.substr(6, dash - 6), first);
    if (!parsed || first != attempt_offset)
        refuse("the store sent another part of the object than the one asked for",
               "It was asked for the bytes from " + std::to_string(attempt_offset) +
                   " on and sent \"" + printable_key(r) + "\".");
    if (size_known && parse_u64(r.substr(slash + 1), total) && total != size)
        refuse("the object changed while it was read",
               "Its size was " + std::to_string(size) + " bytes and is now " +
                   std::to_string(total) + ".");
}

size_t Download::State::read(uint8_t *out, size_t capacity) {
    for (;;) {
        if (begin < end) {
            size_t n = std::min(capacity, end - begin);
            std::memcpy(out, buffer.data() + begin, n);
            begin += n;
            if (begin == end)
                begin = end = 0;
            return n;
        }
        if (complete)
            return 0;
        switch (phase) {
        case Phase::idle:
            begin_body(); // resumes after a failure
            break;
        case Phase::running:
            if (paused) {
                paused = false;
                last_activity = Clock::now();
                // May hand over what libcurl kept at once (and pause again).
                CURLcode rc = curl_easy_pause(curl, CURLPAUSE_CONT);
                if (rc != CURLE_OK)
                    end_transfer(rc);
            } else {
                step();
            }
            break;
        case Phase::ended:
            phase = Phase::idle;
            if (result == CURLE_OK || (size_known && offset == size)) {
                if (!size_known || offset == size) {
                    complete = true;
                    break;
                }
                result = CURLE_PARTIAL_FILE;
                std::snprintf(error, sizeof(error), "the reply ended after %llu of %llu bytes",
                              static_cast<unsigned long long>(offset),
                              static_cast<unsigned long long>(size));
            }
            if (offset > attempt_offset)
                failures = 0; // progress: the retries start again
            after_failure(result);
            break;
        }
    }
}

Download::Download(ClientOptions options, size_t buffer_size, RangeRequest build,
                   std::string what, std::string not_found_message,
                   std::shared_ptr<ConnectionPool> pool)
    : state_(std::make_unique<State>()) {
    global_init();
    State &s = *state_;
    s.pool = std::move(pool);
    s.options = std::move(options);
    s.build = std::move(build);
    s.what = std::move(what);
    s.not_found_message = std::move(not_found_message);
    s.buffer.resize(std::max<size_t>(buffer_size, 1));
    s.curl = curl_easy_init();
    s.multi = curl_multi_init();
    if (s.curl == nullptr || s.multi == nullptr)
        throw Error(ErrorKind::out_of_resources, "could not create an HTTP client handle");
    s.begin_body();
}

Download::~Download() = default;

size_t Download::read(uint8_t *buffer, size_t capacity) {
    State &s = *state_;
    if (s.failure)
        throw *s.failure;
    if (capacity == 0)
        return 0;
    try {
        if (s.options.canceled && s.options.canceled())
            transfer::throw_canceled(s.what);
        return s.read(buffer, capacity);
    } catch (const Error &e) {
        s.detach();
        s.failure = e;
        throw;
    }
}

size_t Download::peak_buffered() const noexcept { return state_->peak; }

int Download::requests() const noexcept { return state_->requests; }

} // namespace convoy::http
