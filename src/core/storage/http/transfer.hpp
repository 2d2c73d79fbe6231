// What every libcurl transfer of the object-store clients shares, whether its
// body is held in memory (Client) or streamed (Download): the handle's options,
// the signal discipline around name resolution, stepping a transfer through
// the multi interface, retry delays and the errors a failed transfer becomes.
// Internal to src/core/storage/http (it includes libcurl's header).
#pragma once

#include <curl/curl.h>

#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "core/storage/http/http_client.hpp"
#include "core/thread/signal_free_thread.hpp"

#include "core/core_only.hpp"

namespace convoy::http::transfer {

// The longest wait for the sockets between two steps of a transfer, as in
// curl_easy_perform(): cancellation is checked at least this often.
constexpr int step_wait_ms = 1000;

// Protocols, no signals, HTTP/1.1, no redirects, keep-alive, TLS verification
// and CA file, connect timeout, the error buffer, and (when libcurl resolves
// names on threads of its own) blocking every signal in resolver_signals
// before such a thread starts. Not the total timeout, nor the callbacks.
void set_common_options(CURL *curl, const ClientOptions &options, char *error_buffer,
                        SignalBlock *resolver_signals);

// Adds headers to list as "Name: value" lines (an empty value as "Name;").
// Throws Error(out_of_resources); list is freed by the caller either way.
void append_headers(curl_slist *&list, const std::vector<Header> &headers);
// Adds one line as it is ("Expect:" removes a header libcurl would add).
void append_line(curl_slist *&list, const std::string &line);

// Connection failures and timeouts: worth another attempt.
bool retryable(CURLcode code);

// Why a transfer failed, for a message: libcurl's error buffer or the code's
// text, without the URL's query (it may hold a SAS) or anything secret.
std::string failure_reason(CURLcode code, const char *error_buffer, const std::string &url);

// Throws the Error for a transfer that failed with code after attempts
// attempts: storage_unavailable for a retryable code (the last retry spent),
// and for others what Client::send() documents.
[[noreturn]] void throw_failure(CURLcode code, const std::string &reason, const std::string &what,
                                int attempts);

[[noreturn]] void throw_canceled(const std::string &what);

// The result of the transfer of multi that has just finished.
CURLcode finished_code(CURLM *multi);
// A failure of the multi interface itself, as a transfer's result.
CURLcode multi_failure_code(CURLMcode status, char *error_buffer);

// How long to wait before attempt number attempt + 1: exponential backoff
// with full jitter, at least a Retry-After in seconds (response may be null),
// at most policy.max_delay_ms.
long retry_delay_ms(const RetryPolicy &policy, int attempt, const Response *response,
                    std::mt19937_64 &random);
// Sleeps delay_ms, checking options.canceled (throw_canceled(what)) meanwhile.
void sleep_unless_canceled(long delay_ms, const ClientOptions &options, const std::string &what);

// One header line as libcurl hands it to a header callback: a status line
// starts a new response (headers is cleared and its status returned), a
// "Name: value" line is added to headers (at most 200 of them). Returns -1 for
// any other line, the blank one that ends the headers included.
long parse_header_line(std::string_view line, std::vector<Header> &headers);

std::string trim(std::string_view text);

} // namespace convoy::http::transfer
