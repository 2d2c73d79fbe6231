#include "core/storage/http/transfer.hpp"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include "core/error.hpp"

namespace convoy::http::transfer {

namespace {

// Whether libcurl resolves host names on threads of its own: its threaded
// resolver does; c-ares and the synchronous resolver (which runs on the
// caller's thread, where blocking signals would only hold up its handlers) do not.
bool resolver_starts_threads() {
    static const bool starts_threads = [] {
        const curl_version_info_data *info = curl_version_info(CURLVERSION_NOW);
        return (info->features & CURL_VERSION_ASYNCHDNS) != 0 && info->ares == nullptr;
    }();
    return starts_threads;
}

// Called right before libcurl starts a thread to resolve a name (the server's
// or a proxy's). The thread inherits the caller's signal mask, so every signal
// is blocked until the step of the transfer that started it returns (the
// transfer's driver restores the mask after each step).
int block_signals_for_resolver(void *, void *, void *user) {
    static_cast<SignalBlock *>(user)->block_all();
    return 0;
}

// Replaces the query of url (when present) anywhere in text.
std::string strip_query(std::string text, const std::string &url) {
    size_t q = url.find('?');
    if (q == std::string::npos)
        return text;
    std::string query = url.substr(q);
    size_t pos;
    while ((pos = text.find(query)) != std::string::npos)
        text.replace(pos, query.size(), "?...");
    return text;
}

} // namespace

std::string trim(std::string_view s) {
    size_t b = 0, e = s.size();
    while (b < e && std::isspace(static_cast<unsigned char>(s[b])))
        b++;
    while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1])))
        e--;
    return std::string(s.substr(b, e - b));
}

void set_common_options(CURL *curl, const ClientOptions &options, char *error_buffer,
                        SignalBlock *resolver_signals) {
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    // The object stores speak HTTP/1.1; never negotiate HTTP/2 over TLS.
    curl_easy_setopt(curl, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_1_1));
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(curl, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(curl, CURLOPT_USERAGENT, "convoy_backup");
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error_buffer);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, options.connect_timeout_ms);
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, options.verify_tls ? 1L : 0L);
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, options.verify_tls ? 2L : 0L);
    if (!options.ca_file.empty())
        curl_easy_setopt(curl, CURLOPT_CAINFO, options.ca_file.c_str());
    if (resolver_starts_threads()) {
        curl_easy_setopt(curl, CURLOPT_RESOLVER_START_FUNCTION, block_signals_for_resolver);
        curl_easy_setopt(curl, CURLOPT_RESOLVER_START_DATA, resolver_signals);
    }
}

void append_line(curl_slist *&list, const std::string &line) {
    curl_slist *next = curl_slist_append(list, line.c_str());
    if (next == nullptr)
        throw Error(ErrorKind::out_of_resources, "out of memory building an HTTP request");
    list = next;
}

void append_headers(curl_slist *&list, const std::vector<Header> &headers) {
    for (const Header &h : headers)
        append_line(list, h.value.empty() ? h.name + ";" : h.name + ": " + h.value);
}

bool retryable(CURLcode code) {
    switch (code) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_WEIRD_SERVER_REPLY:
        return true;
    default:
        return false;
    }
}

std::string failure_reason(CURLcode code, const char *error_buffer, const std::string &url) {
    std::string reason = error_buffer[0] ? error_buffer : curl_easy_strerror(code);
    return redact(strip_query(reason, url));
}

void throw_failure(CURLcode code, const std::string &reason, const std::string &what,
                   int attempts) {
    if (retryable(code))
        throw Error(ErrorKind::storage_unavailable, what + ": " + reason,
                    attempts > 1 ? "Gave up after " + std::to_string(attempts) + " attempts." : "");
    switch (code) {
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
        throw Error(ErrorKind::invalid_config, what + ": " + reason, "Check the CA file setting.");
    case CURLE_PEER_FAILED_VERIFICATION:
        throw Error(ErrorKind::storage_unavailable, what + ": " + reason,
                    "The server's TLS certificate could not be verified.");
    case CURLE_OUT_OF_MEMORY:
        throw Error(ErrorKind::out_of_resources, what + ": " + reason);
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
        throw Error(ErrorKind::invalid_config, what + ": " + reason);
    default:
        throw Error(ErrorKind::storage_io, what + ": " + reason);
    }
}

void throw_canceled(const std::string &what) {
    throw Error(ErrorKind::storage_io, what + ": request canceled");
}

CURLcode finished_code(CURLM *multi) {
    int queued = 0;
    while (CURLMsg *message = curl_multi_info_read(multi, &queued))
        if (message->msg == CURLMSG_DONE)
            return message->data.result;
    return CURLE_FAILED_INIT; // cannot happen: a finished transfer leaves a message
}

CURLcode multi_failure_code(CURLMcode status, char *error_buffer) {
    if (status == CURLM_OUT_OF_MEMORY)
        return CURLE_OUT_OF_MEMORY;
    std::snprintf(error_buffer, CURL_ERROR_SIZE, "%s", curl_multi_strerror(status));
    return CURLE_FAILED_INIT;
}

long retry_delay_ms(const RetryPolicy &p, int attempt, const Response *response,
                    std::mt19937_64 &random) {
    long cap = std::max(0L, p.max_delay_ms);
    long ceiling = std::max(0L, p.base_delay_ms);
    for (int i = 1; i < attempt && ceiling < cap; i++)
        ceiling *= 2;
    ceiling = std::min(ceiling, cap);
    long delay = ceiling > 0 ? std::uniform_int_distribution<long>(0, ceiling)(random) : 0;
    if (response != nullptr) {
        if (const std::string *after = response->header("retry-after")) {
            char *end = nullptr;
            long seconds = std::strtol(after->c_str(), &end, 10);
            if (end != after->c_str() && *end == '\0' && seconds > 0)
                delay = std::max(delay, std::min(cap, seconds * 1000));
        }
    }
    return delay;
}

void sleep_unless_canceled(long delay_ms, const ClientOptions &options, const std::string &what) {
    auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(delay_ms);
    for (;;) {
        if (options.canceled && options.canceled())
            throw_canceled(what);
        auto now = std::chrono::steady_clock::now();
        if (now >= until)
            return;
        std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(
            until - now, std::chrono::milliseconds(100)));
    }
}

long parse_header_line(std::string_view line, std::vector<Header> &headers) {
    if (line.compare(0, 5, "HTTP/") == 0) {
        // A new response starts (after 100 Continue, for one).
        headers.clear();
        size_t sp = line.find(' ');
        if (sp == std::string_view::npos)
            return 0;
        return std::strtol(std::string(line.substr(sp + 1, 3)).c_str(), nullptr, 10);
    }
    size_t colon = line.find(':');
    if (colon != std::string_view::npos && headers.size() < 200)
        headers.push_back(Header{trim(line.substr(0, colon)), trim(line.substr(colon + 1))});
    return -1;
}

} // namespace convoy::http::transfer
