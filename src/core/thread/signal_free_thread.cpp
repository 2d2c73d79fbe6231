#include "core/thread/signal_free_thread.hpp"

#include <pthread.h>

namespace convoy {

std::thread start_signal_free_thread(std::function<void()> body) {
    SignalBlock signals;
    signals.block_all();
    return std::thread(std::move(body));
}

void SignalBlock::block_all() noexcept {
    if (blocked_)
        return;
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &saved_);
    blocked_ = true;
}

void SignalBlock::restore() noexcept {
    if (!blocked_)
        return;
    pthread_sigmask(SIG_SETMASK, &saved_, nullptr);
    blocked_ = false;
}

} // namespace convoy
