#include "core/batch/background_writer.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <thread>

#include "core/catalog/cataloged_object.hpp"
#include "core/error.hpp"
#include "core/thread/signal_free_thread.hpp"

namespace convoy {

struct BackgroundWriter::State {
    int pipe_read = -1;
    int pipe_write = -1;
    std::thread thread;
    std::mutex mutex;
    std::condition_variable wake;
    bool stop = false;

    // The job: set by start(), run by the thread, cleared by collect().
    bool job_present = false;
    bool job_running = false; // handed to the thread, not yet ended
    std::atomic<bool> job_ended{false};
    std::shared_ptr<Storage> storage;
    std::vector<ObjectJob> objects;
    int gzip_level = 1;
    JobOutcome outcome;

    void run_job() noexcept {
        JobOutcome result;
        try {
            result.written.reserve(objects.size());
            for (ObjectJob &object : objects)
                result.written.push_back(
                    write_cataloged_object(*storage, object.manifest, [&object](auto &&emit) {
                        for (const ByteSpan &span : object.spans)
                            emit(span.data, span.len);
                    }, gzip_level));
        } catch (...) {
            result.error = std::current_exception();
        }
        outcome = std::move(result);
    }

    void thread_main() noexcept {
        std::unique_lock<std::mutex> lock(mutex);
        for (;;) {
            wake.wait(lock, [this] { return stop || job_running; });
            if (stop)
                return;
            lock.unlock();
            run_job();
            lock.lock();
            job_running = false;
            job_ended.store(true, std::memory_order_release);
            wake.notify_all();
            // A full pipe already signals readability: nothing to retry.
            char byte = 1;
            [[maybe_unused]] ssize_t ignored = ::write(pipe_write, &byte, 1);
        }
    }

    void drain_pipe() noexcept {
        char bytes[16];
        while (::read(pipe_read, bytes, sizeof(bytes)) > 0) {
        }
    }
};

BackgroundWriter::BackgroundWriter() : state_(std::make_unique<State>()) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0)
        throw Error(ErrorKind::out_of_resources,
                    std::string("could not create pipe: ") + std::strerror(errno));
    state_->pipe_read = fds[0];
    state_->pipe_write = fds[1];
}

BackgroundWriter::~BackgroundWriter() {
    State &s = *state_;
    if (s.thread.joinable()) {
        {
            std::unique_lock<std::mutex> lock(s.mutex);
            s.wake.wait(lock, [&s] { return !s.job_running; });
            s.stop = true;
        }
        s.wake.notify_all();
        s.thread.join();
    }
    ::close(s.pipe_read);
    ::close(s.pipe_write);
}

void BackgroundWriter::start(std::shared_ptr<Storage> storage, std::vector<ObjectJob> objects,
                             int gzip_level) {
    State &s = *state_;
    if (s.job_present)
        throw Error(ErrorKind::internal, "background writer is already busy");
    if (!s.thread.joinable())
        s.thread = start_signal_free_thread([&s] { s.thread_main(); });
    {
        std::lock_guard<std::mutex> lock(s.mutex);
        s.storage = std::move(storage);
        s.objects = std::move(objects);
        s.gzip_level = gzip_level;
        s.outcome = JobOutcome{};
        s.job_ended.store(false, std::memory_order_relaxed);
        s.job_present = true;
        s.job_running = true;
    }
    s.wake.notify_all();
}

bool BackgroundWriter::busy() const noexcept { return state_->job_present; }

bool BackgroundWriter::finished() const noexcept {
    return state_->job_present && state_->job_ended.load(std::memory_order_acquire);
}

int BackgroundWriter::wake_fd() const noexcept { return state_->pipe_read; }

void BackgroundWriter::wait() noexcept {
    State &s = *state_;
    if (!s.job_present)
        return;
    std::unique_lock<std::mutex> lock(s.mutex);
    s.wake.wait(lock, [&s] { return !s.job_running; });
}

JobOutcome BackgroundWriter::collect() {
    State &s = *state_;
    if (!finished())
        throw Error(ErrorKind::internal, "background writer has no finished job to collect");
    std::lock_guard<std::mutex> lock(s.mutex);
    JobOutcome result = std::move(s.outcome);
    s.outcome = JobOutcome{};
    s.objects.clear();
    s.storage.reset();
    s.job_present = false;
    s.job_ended.store(false, std::memory_order_relaxed);
    s.drain_pipe();
    return result;
}

} // namespace convoy
