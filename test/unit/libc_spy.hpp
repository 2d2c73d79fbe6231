// Watches what the code under test asks of libc, for tests of properties no
// return value shows. libc_spy.cpp defines the libc functions concerned in the
// test binary, where they take precedence over libc's own (for libcurl too),
// records what the tests ask for, and forwards every call to libc.
#pragma once

#include <string>

namespace convoy::test {

// A host name that only this test binary resolves (to 127.0.0.1), through the
// ordinary getaddrinfo() path: unlike "localhost" and IP addresses, which
// libcurl resolves by itself, it makes libcurl start its resolver.
extern const char spy_loopback_host[];

// Counts the threads that the thread constructing it starts until it is
// destroyed, and those of them that began with a signal not blocked.
class ThreadStartSpy {
public:
    ThreadStartSpy();
    ~ThreadStartSpy();
    ThreadStartSpy(const ThreadStartSpy &) = delete;
    ThreadStartSpy &operator=(const ThreadStartSpy &) = delete;

    int started() const;
    int started_with_signals_unblocked() const;
};

// Whether the calling thread blocks every signal that can be blocked.
bool every_signal_blocked();

// Records what fsync() is called on while it exists: the file or directory's
// path, as the kernel names it (symbolic links resolved).
class FsyncSpy {
public:
    FsyncSpy();
    ~FsyncSpy();
    FsyncSpy(const FsyncSpy &) = delete;
    FsyncSpy &operator=(const FsyncSpy &) = delete;

    // How many times path (resolved like the recorded ones) was fsynced.
    int count(const std::string &path) const;
};

} // namespace convoy::test
