#include "core/storage/http/http_client.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <mutex>

#include "core/error.hpp"
#include "core/storage/http/transfer.hpp"
#include "core/storage/http/url.hpp"
#include "core/storage/http/xml.hpp"
#include "core/thread/signal_free_thread.hpp"

namespace convoy::http {

namespace {

constexpr size_t max_message_bytes = 300;
// Bodies below this size go out without "Expect: 100-continue" (saving a round
// trip); larger ones wait for the server's go-ahead so that an early refusal
// does not cost the whole upload.
constexpr size_t expect_continue_threshold = 1 << 20;

using transfer::trim;

// Ensures a sentence ends with a period (detail messages are full sentences).
std::string sentence(std::string s) {
    if (!s.empty() && s.back() != '.' && s.back() != '!' && s.back() != '?')
        s += '.';
    return s;
}

} // namespace

// The state of one attempt, shared with libcurl's callbacks.
struct detail::Attempt {
    const Request *request = nullptr;
    size_t read_offset = 0;
    Response response;
    size_t max_body = 0;
    const std::function<bool()> *canceled = nullptr;
    CURLcode code = CURLE_OK;
    char error[CURL_ERROR_SIZE] = "";
    SignalBlock resolver_signals; // see transfer::set_common_options()
};

void global_init() {
    static std::once_flag once;
    static CURLcode result = CURLE_OK;
    std::call_once(once, [] { result = curl_global_init(CURL_GLOBAL_DEFAULT); });
    if (result != CURLE_OK)
        throw Error(ErrorKind::internal, "could not initialize libcurl",
                    sentence(curl_easy_strerror(result)));
}

const std::string *Response::header(std::string_view name) const {
    std::string wanted = ascii_lower(name);
    const std::string *found = nullptr;
    for (const Header &h : headers)
        if (ascii_lower(h.name) == wanted)
            found = &h.value;
    return found;
}

Client::Client(ClientOptions options)
    : options_(std::move(options)), random_(std::random_device{}()) {
    global_init();
    curl_ = curl_easy_init();
    multi_ = curl_multi_init();
    if (curl_ == nullptr || multi_ == nullptr) {
        free_handles();
        throw Error(ErrorKind::out_of_resources, "could not create an HTTP client handle");
    }
}

Client::~Client() { free_handles(); }

void Client::free_handles() noexcept {
    if (curl_ != nullptr)
        curl_easy_cleanup(static_cast<CURL *>(curl_));
    if (multi_ != nullptr)
        curl_multi_cleanup(static_cast<CURLM *>(multi_));
}

ClientOptions cleanup_options(const ClientOptions &options) {
    ClientOptions cleanup = options;
    cleanup.canceled = nullptr;
    cleanup.connect_timeout_ms = std::min(options.connect_timeout_ms, cleanup_attempt_timeout_ms);
    cleanup.request_timeout_ms = std::min(options.request_timeout_ms, cleanup_attempt_timeout_ms);
    cleanup.retry.max_retries = 1;
    cleanup.retry.base_delay_ms = std::min(options.retry.base_delay_ms, 200L);
    cleanup.retry.max_delay_ms = std::min(options.retry.max_delay_ms, 1000L);
    return cleanup;
}

bool retryable_status(long status) { return status == 408 || status == 429 || status >= 500; }

std::string redact(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (char c : text) {
        unsigned char u = static_cast<unsigned char>(c);
        out += (u < 0x20 || u == 0x7f) ? ' ' : c;
    }
    // name -> where its value ends
    static const char *const markers[] = {
        "sig=",           "x-amz-signature=", "x-amz-security-token=", "x-amz-credential=",
        "signature=",     "sharedkey ",       "aws4-hmac-sha256 ",     "authorization:",
        "authorization=",
    };
    std::string low = ascii_lower(out);
    for (const char *marker : markers) {
        size_t pos = 0;
        size_t mlen = std::strlen(marker);
        while ((pos = low.find(marker, pos)) != std::string::npos) {
            size_t start = pos + mlen;
            size_t end = start;
            // A value runs to the next separator; an Authorization header to the
            // end of the text.
            bool whole = marker[0] == 'a' || (marker[0] == 's' && marker[1] == 'h');
            while (end < out.size() &&
                   (whole || (out[end] != '&' && out[end] != ' ' && out[end] != ',' &&
                              out[end] != '\'' && out[end] != '"' && out[end] != '<')))
                end++;
            if (end > start) {
                out.replace(start, end - start, "[redacted]");
                low.replace(start, end - start, "[redacted]");
            }
            pos = start + 1;
        }
    }
    return out;
}

ServiceError service_error(const Response &response) {
    ServiceError err;
    if (auto code = xml_element_text(response.body, "Code"))
        err.code = trim(*code);
    if (auto message = xml_element_text(response.body, "Message"))
        err.message = *message;
    if (err.code.empty()) {
        if (const std::string *h = response.header("x-ms-error-code"))
            err.code = trim(*h);
        else if (const std::string *h2 = response.header("x-amz-error-code"))
            err.code = trim(*h2);
    }
    if (err.message.empty()) {
        if (const std::string *h = response.header("x-amz-error-message"))
            err.message = *h;
    }
    // First line only: Azure appends RequestId and Time lines.
    size_t nl = err.message.find_first_of("\r\n");
    if (nl != std::string::npos)
        err.message.resize(nl);
    err.message = redact(trim(err.message));
    if (err.message.size() > max_message_bytes) {
        err.message.resize(max_message_bytes);
        // Do not cut a UTF-8 sequence in half.
        while (!err.message.empty() &&
               (static_cast<unsigned char>(err.message.back()) & 0xC0) == 0x80)
            err.message.pop_back();
        if (!err.message.empty() && (static_cast<unsigned char>(err.message.back()) & 0x80))
            err.message.pop_back();
        err.message += "...";
    }
    err.code = redact(err.code.substr(0, 100));
    return err;
}

void throw_status_error(const Response &response, const std::string &what) {
    ErrorKind kind = ErrorKind::storage_io;
    if (response.status == 401 || response.status == 403)
        kind = ErrorKind::storage_auth;
    else if (retryable_status(response.status))
        kind = ErrorKind::storage_unavailable;
    ServiceError err = service_error(response);
    std::string message = what + ": HTTP status " + std::to_string(response.status);
    if (!err.code.empty())
        message += " (" + err.code + ")";
    std::string detail;
    if (!err.message.empty())
        detail = "The service said: " + sentence(err.message);
    if (response.attempts > 1) {
        if (!detail.empty())
            detail += ' ';
        detail += "Gave up after " + std::to_string(response.attempts) + " attempts.";
    }
    throw Error(kind, message, detail);
}

namespace {

size_t write_body(char *data, size_t size, size_t nmemb, void *user) {
    auto *attempt = static_cast<detail::Attempt *>(user);
    size_t n = size * nmemb;
    Response &r = attempt->response;
    size_t room = attempt->max_body > r.body.size() ? attempt->max_body - r.body.size() : 0;
    if (n > room)
        r.body_truncated = true;
    r.body.append(data, std::min(n, room));
    return n;
}

size_t write_header(char *data, size_t size, size_t nmemb, void *user) {
    auto *attempt = static_cast<detail::Attempt *>(user);
    size_t n = size * nmemb;
    transfer::parse_header_line(std::string_view(data, n), attempt->response.headers);
    return n;
}

size_t read_body(char *buffer, size_t size, size_t nitems, void *user) {
    auto *attempt = static_cast<detail::Attempt *>(user);
    const Request &req = *attempt->request;
    size_t left = req.body_len - attempt->read_offset;
    size_t n = std::min(left, size * nitems);
    if (n > 0)
        std::memcpy(buffer, req.body + attempt->read_offset, n);
    attempt->read_offset += n;
    return n;
}

int seek_body(void *user, curl_off_t offset, int origin) {
    auto *attempt = static_cast<detail::Attempt *>(user);
    if (origin != SEEK_SET || offset < 0 ||
        static_cast<size_t>(offset) > attempt->request->body_len)
        return CURL_SEEKFUNC_CANTSEEK;
    attempt->read_offset = static_cast<size_t>(offset);
    return CURL_SEEKFUNC_OK;
}

int on_progress(void *user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
    auto *attempt = static_cast<detail::Attempt *>(user);
    return (*attempt->canceled && (*attempt->canceled)()) ? 1 : 0;
}

} // namespace

void Client::perform(const Request &request, detail::Attempt &attempt) {
    CURL *curl = static_cast<CURL *>(curl_);
    curl_easy_reset(curl);
    attempt.request = &request;
    attempt.max_body =
        request.max_response_body > 0 ? request.max_response_body : options_.max_response_body;
    attempt.canceled = &options_.canceled;

    struct curl_slist *headers = nullptr;
    struct SlistGuard {
        curl_slist *&list;
        ~SlistGuard() { curl_slist_free_all(list); }
    } guard{headers};
    transfer::append_headers(headers, request.headers);

    bool upload = request.method == "PUT" || request.method == "POST";
    if (upload && request.body_len < expect_continue_threshold)
        transfer::append_line(headers, "Expect:"); // no "Expect: 100-continue"

    curl_easy_setopt(curl, CURLOPT_URL, request.url.c_str());
    transfer::set_common_options(curl, options_, attempt.error, &attempt.resolver_signals);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, options_.request_timeout_ms);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, write_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &attempt);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, write_header);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, &attempt);
    if (options_.canceled) {
        curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
        curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, on_progress);
        curl_easy_setopt(curl, CURLOPT_XFERINFODATA, &attempt);
    }

    if (upload) {
        curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(request.body_len));
        curl_easy_setopt(curl, CURLOPT_READFUNCTION, read_body);
        curl_easy_setopt(curl, CURLOPT_READDATA, &attempt);
        curl_easy_setopt(curl, CURLOPT_SEEKFUNCTION, seek_body);
        curl_easy_setopt(curl, CURLOPT_SEEKDATA, &attempt);
        if (request.method == "POST")
            curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, "POST");
    } else if (request.method == "HEAD") {
        curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
    } else if (request.method == "GET") {
        curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
    } else {
        curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
    }
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);

    run_transfer(attempt);
    if (attempt.code == CURLE_OK) {
        long status = 0;
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
        attempt.response.status = status;
    }
    // Nothing may keep pointing at this attempt's state once it returns.
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, nullptr);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, nullptr);
}

// What curl_easy_perform() does, one step at a time: a step that started a name
// resolution ran with every signal blocked from that moment on, and they are
// unblocked again once it returns. The waits between steps, where a transfer
// spends its time, run with the caller's own mask, so its signal handlers (and
// the cancellation they request) are not held up.
void Client::run_transfer(detail::Attempt &attempt) {
    CURLM *multi = static_cast<CURLM *>(multi_);
    CURL *curl = static_cast<CURL *>(curl_);
    CURLMcode status = curl_multi_add_handle(multi, curl);
    int running = 1;
    while (status == CURLM_OK && running) {
        status = curl_multi_perform(multi, &running);
        attempt.resolver_signals.restore();
        if (status == CURLM_OK && running)
            status = curl_multi_poll(multi, nullptr, 0, transfer::step_wait_ms, nullptr);
    }
    attempt.code = status == CURLM_OK ? transfer::finished_code(multi)
                                      : transfer::multi_failure_code(status, attempt.error);
    curl_multi_remove_handle(multi, curl);
}

void Client::wait_before_retry(const RetryPolicy &p, int attempt, const Response *response,
                               const std::string &what) {
    transfer::sleep_unless_canceled(transfer::retry_delay_ms(p, attempt, response, random_),
                                    options_, what);
}

Response Client::send(const std::function<Request()> &build, const std::string &what,
                      const RetryPolicy *policy) {
    const RetryPolicy &retry = policy != nullptr ? *policy : options_.retry;
    int max_attempts = std::max(0, retry.max_retries) + 1;
    for (int n = 1;; n++) {
        if (options_.canceled && options_.canceled())
            transfer::throw_canceled(what);
        Request request = build();
        detail::Attempt attempt;
        perform(request, attempt);
        attempt.response.attempts = n;
        if (attempt.code == CURLE_OK) {
            if (!retryable_status(attempt.response.status) || n >= max_attempts)
                return std::move(attempt.response);
            wait_before_retry(retry, n, &attempt.response, what);
            continue;
        }
        if (attempt.code == CURLE_ABORTED_BY_CALLBACK)
            transfer::throw_canceled(what);
        if (transfer::retryable(attempt.code) && n < max_attempts) {
            wait_before_retry(retry, n, nullptr, what);
            continue;
        }
        transfer::throw_failure(attempt.code,
                                transfer::failure_reason(attempt.code, attempt.error, request.url),
                                what, n);
    }
}

} // namespace convoy::http
