#include "libc_spy.hpp"

#include <dlfcn.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <climits>
#include <cstring>
#include <map>
#include <mutex>

namespace convoy::test {

const char spy_loopback_host[] = "convoy-spy-loopback.invalid";

namespace {

// libc's own definition of a function this file replaces.
template <typename Function> Function libc_function(const char *name) {
    return reinterpret_cast<Function>(::dlsym(RTLD_NEXT, name));
}

// What the LibcSpy in existence, if any, has recorded.
struct Record {
    bool active = false;
    pthread_t spying_thread;
    int threads_started = 0;
    int threads_started_with_signals_unblocked = 0;
    std::map<std::string, int> fsyncs_by_path;
};

std::mutex record_mutex;
Record record;

void note_thread_start() {
    std::lock_guard<std::mutex> lock(record_mutex);
    if (!record.active || !pthread_equal(pthread_self(), record.spying_thread))
        return;
    record.threads_started++;
    if (!every_signal_blocked())
        record.threads_started_with_signals_unblocked++;
}

void note_fsync(int fd) {
    std::lock_guard<std::mutex> lock(record_mutex);
    if (!record.active)
        return;
    char path[PATH_MAX];
    std::string link = "/proc/self/fd/" + std::to_string(fd);
    ssize_t len = ::readlink(link.c_str(), path, sizeof(path));
    if (len > 0)
        record.fsyncs_by_path[std::string(path, static_cast<size_t>(len))]++;
}

} // namespace

bool every_signal_blocked() {
    sigset_t mask;
    pthread_sigmask(SIG_SETMASK, nullptr, &mask);
    for (int sig = 1; sig <= SIGRTMAX; sig++) {
        // SIGKILL and SIGSTOP cannot be blocked; glibc keeps the signals below
        // SIGRTMIN for itself.
        bool blockable = sig != SIGKILL && sig != SIGSTOP && (sig < 32 || sig >= SIGRTMIN);
        if (blockable && !sigismember(&mask, sig))
            return false;
    }
    return true;
}

LibcSpy::LibcSpy() {
    std::lock_guard<std::mutex> lock(record_mutex);
    record = Record{};
    record.active = true;
    record.spying_thread = pthread_self();
}

LibcSpy::~LibcSpy() {
    std::lock_guard<std::mutex> lock(record_mutex);
    record.active = false;
}

int LibcSpy::threads_started() const {
    std::lock_guard<std::mutex> lock(record_mutex);
    return record.threads_started;
}

int LibcSpy::threads_started_with_signals_unblocked() const {
    std::lock_guard<std::mutex> lock(record_mutex);
    return record.threads_started_with_signals_unblocked;
}

int LibcSpy::fsyncs(const std::string &path) const {
    char resolved[PATH_MAX];
    if (::realpath(path.c_str(), resolved) == nullptr)
        return 0;
    std::lock_guard<std::mutex> lock(record_mutex);
    auto found = record.fsyncs_by_path.find(resolved);
    return found == record.fsyncs_by_path.end() ? 0 : found->second;
}

} // namespace convoy::test

// A new thread starts with its creator's signal mask: the creator's mask now is
// the new thread's.
extern "C" int pthread_create(pthread_t *thread, const pthread_attr_t *attr,
                              void *(*start)(void *), void *arg) noexcept {
    static const auto libc_pthread_create =
        convoy::test::libc_function<int (*)(pthread_t *, const pthread_attr_t *,
                                            void *(*)(void *), void *)>("pthread_create");
    convoy::test::note_thread_start();
    return libc_pthread_create(thread, attr, start, arg);
}

extern "C" int getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
                           struct addrinfo **result) {
    static const auto libc_getaddrinfo =
        convoy::test::libc_function<int (*)(const char *, const char *, const struct addrinfo *,
                                            struct addrinfo **)>("getaddrinfo");
    if (node != nullptr && std::strcmp(node, convoy::test::spy_loopback_host) == 0)
        node = "127.0.0.1";
    return libc_getaddrinfo(node, service, hints, result);
}

extern "C" int fsync(int fd) {
    static const auto libc_fsync = convoy::test::libc_function<int (*)(int)>("fsync");
    convoy::test::note_fsync(fd);
    return libc_fsync(fd);
}
