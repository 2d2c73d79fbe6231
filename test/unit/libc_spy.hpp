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

// Records, from its construction to its destruction, the threads that the
// thread constructing it starts, and what fsync() is called on. One at a time.
class LibcSpy {
public:
    LibcSpy();
    ~LibcSpy();
    LibcSpy(const LibcSpy &) = delete;
    LibcSpy &operator=(const LibcSpy &) = delete;

    int threads_started() const;
    // Of those, the threads that began with a signal not blocked.
    int threads_started_with_signals_unblocked() const;
    // How many times the file or directory at path was fsynced (symbolic links
    // resolved, as the kernel names what a descriptor is open on).
    int fsyncs(const std::string &path) const;
};

// Whether the calling thread blocks every signal that can be blocked.
bool every_signal_blocked();

} // namespace convoy::test
