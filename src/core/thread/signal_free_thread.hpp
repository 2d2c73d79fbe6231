// Threads inside a PostgreSQL server process.
#pragma once

#include <functional>
#include <thread>

#include "core/core_only.hpp"

namespace convoy {

// Starts body on a new thread with every signal blocked. A thread inherits its
// creator's signal mask; blocking all of them keeps PostgreSQL's handlers (which
// touch process globals and may longjmp) on the process's own thread. body must
// not call PostgreSQL either. Throws std::system_error if no thread can start.
std::thread start_signal_free_thread(std::function<void()> body);

} // namespace convoy
