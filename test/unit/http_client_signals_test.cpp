// The HTTP client inside a server process: a thread libcurl starts (its
// threaded resolver) must never run one of PostgreSQL's signal handlers, while
// the caller's own handlers, which set the flags that cancel a request, still
// run during a transfer.
#include "core/storage/http/http_client.hpp"

#include <curl/curl.h>
#include <gtest/gtest.h>
#include <pthread.h>
#include <signal.h>

#include <chrono>
#include <string>
#include <thread>

#include "core/error.hpp"
#include "core/storage/http/download.hpp"
#include "fake_http_server.hpp"
#include "libc_spy.hpp"
#include "test_support.hpp"

namespace {

using convoy::Error;
using convoy::test::FakeHttpServer;
using convoy::test::FakeRequest;
using convoy::test::FakeResponse;
namespace http = convoy::http;

bool resolver_starts_threads() {
    const curl_version_info_data *info = curl_version_info(CURLVERSION_NOW);
    return (info->features & CURL_VERSION_ASYNCHDNS) != 0 && info->ares == nullptr;
}

http::Request get_by_name(const FakeHttpServer &server) {
    http::Request r;
    r.method = "GET";
    r.url = std::string("http://") + convoy::test::spy_loopback_host + ":" +
            std::to_string(server.port()) + "/";
    return r;
}

sigset_t current_signal_mask() {
    sigset_t mask;
    pthread_sigmask(SIG_SETMASK, nullptr, &mask);
    return mask;
}

TEST(HttpClientSignals, ResolverThreadStartsWithEverySignalBlocked) {
    FakeHttpServer server([](const FakeRequest &) { return FakeResponse{}; });
    http::Client client(http::ClientOptions{});
    sigset_t before = current_signal_mask();
    ASSERT_FALSE(convoy::test::every_signal_blocked());

    convoy::test::LibcSpy spy;
    http::Response response = client.send([&] { return get_by_name(server); }, "test");

    EXPECT_EQ(response.status, 200);
    if (resolver_starts_threads()) {
        EXPECT_GE(spy.threads_started(), 1) << "the name was not resolved on a thread";
    }
    EXPECT_EQ(spy.threads_started_with_signals_unblocked(), 0);
    sigset_t after = current_signal_mask();
    for (int sig = 1; sig <= SIGRTMAX; sig++)
        EXPECT_EQ(sigismember(&before, sig), sigismember(&after, sig)) << "signal " << sig;
}

// The streamed GET of open_read() drives its transfers the same way.
TEST(HttpClientSignals, DownloadResolvesWithEverySignalBlocked) {
    FakeHttpServer server([](const FakeRequest &) {
        FakeResponse r;
        r.body = std::string(100000, 'd');
        return r;
    });
    sigset_t before = current_signal_mask();
    convoy::test::LibcSpy spy;
    http::Download download(http::ClientOptions{}, 4096,
                            [&](uint64_t, const std::string &) { return get_by_name(server); },
                            "could not read", "not found");
    EXPECT_EQ(convoy::test::read_all(download).size(), 100000u);
    if (resolver_starts_threads()) {
        EXPECT_GE(spy.threads_started(), 1) << "the name was not resolved on a thread";
    }
    EXPECT_EQ(spy.threads_started_with_signals_unblocked(), 0);
    sigset_t after = current_signal_mask();
    for (int sig = 1; sig <= SIGRTMAX; sig++)
        EXPECT_EQ(sigismember(&before, sig), sigismember(&after, sig)) << "signal " << sig;
}

volatile sig_atomic_t cancel_requested = 0;

void request_cancel(int) { cancel_requested = 1; }

// As a query cancel does: the handler sets a flag that canceled() reads.
TEST(HttpClientSignals, SignalDuringATransferCancelsIt) {
    FakeHttpServer server([](const FakeRequest &) {
        FakeResponse r;
        r.delay_ms = 10000;
        return r;
    });
    struct sigaction cancel_action {}, previous {};
    cancel_action.sa_handler = request_cancel;
    sigemptyset(&cancel_action.sa_mask);
    cancel_action.sa_flags = SA_RESTART; // as PostgreSQL installs its handlers
    ASSERT_EQ(sigaction(SIGUSR1, &cancel_action, &previous), 0);
    cancel_requested = 0;
    http::ClientOptions options;
    options.canceled = [] { return cancel_requested != 0; };
    http::Client client(options);

    pthread_t caller = pthread_self();
    std::thread canceler([caller] {
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
        pthread_kill(caller, SIGUSR1);
    });
    auto start = std::chrono::steady_clock::now();
    Error e = convoy::test::catch_error(
        [&] { client.send([&] { return get_by_name(server); }, "could not get"); });
    auto took = std::chrono::steady_clock::now() - start;
    canceler.join();
    sigaction(SIGUSR1, &previous, nullptr);

    EXPECT_STREQ(e.what(), "could not get: request canceled");
    EXPECT_LT(took, std::chrono::seconds(3));
}

} // namespace
