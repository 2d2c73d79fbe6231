// Threads inside a PostgreSQL server process.
#pragma once

#include <signal.h>

#include <functional>
#include <thread>

#include "core/core_only.hpp"

namespace convoy {

// Starts body on a new thread with every signal blocked. A thread inherits its
// creator's signal mask; blocking all of them keeps PostgreSQL's handlers (which
// touch process globals and may longjmp) on the process's own thread. body must
// not call PostgreSQL either. Throws std::system_error if no thread can start.
std::thread start_signal_free_thread(std::function<void()> body);

// Blocks every signal on the calling thread from block_all() until restore()
// or destruction, so that a thread started meanwhile, by this code or by a
// library, begins with every signal blocked.
class SignalBlock {
public:
    SignalBlock() noexcept = default;
    ~SignalBlock() { restore(); }
    SignalBlock(const SignalBlock &) = delete;
    SignalBlock &operator=(const SignalBlock &) = delete;

    // Saves the thread's mask and blocks every signal; a no-op while blocked.
    void block_all() noexcept;
    // Puts the saved mask back, if block_all() replaced it.
    void restore() noexcept;

private:
    sigset_t saved_;
    bool blocked_ = false;
};

} // namespace convoy
