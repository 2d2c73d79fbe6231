#include "core/archive/archive_reader.hpp"
#include "core/error.hpp"
#include "core/json/timestamp_scan.hpp"
#include "core/read/gzip_reader.hpp"
#include "core/read/line_reader.hpp"
#include "core/read/sha256_reader.hpp"
#include "core/storage/sign/crypto.hpp"
#include "core/thread/signal_free_thread.hpp"

#include <condition_variable>
#include <cstring>
#include <deque>
#include <exception>
#include <mutex>
#include <string_view>
#include <thread>

namespace convoy::archive {

namespace {

struct Event {
    EventKind kind = EventKind::finished;
    size_t object = 0;
    std::string key;
    std::string reason;
    std::string text;
    std::vector<LineInfo> lines;
    std::vector<json::MemberValue> members;
    uint64_t object_bytes = 0;
    uint64_t objects_done = 0, bytes_done = 0, lines_done = 0;

    size_t weight() const {
        return text.size() + lines.size() * sizeof(LineInfo) +
               members.size() * sizeof(json::MemberValue);
    }
};

// Thrown inside the thread when the reader is destroyed: unwinds quietly.
struct Stopped {};

std::string with_number(const char *before, uint64_t n, const char *after) {
    return before + std::to_string(n) + after;
}

} // namespace

struct ArchiveReader::State {
    std::shared_ptr<Storage> storage;
    ReaderOptions options;
    std::vector<std::string_view> names;
    std::vector<uint8_t> depth_stack;
    std::vector<json::MemberValue> scratch;
    Selection selection;

    std::mutex mutex;
    std::condition_variable changed;
    std::deque<Event> queue;
    size_t queued = 0; // weight of the queued events
    bool stop = false;
    std::exception_ptr failure;
    Event current; // the event the caller is looking at

    // Progress, written by the thread only.
    uint64_t objects_done = 0, bytes_done = 0, lines_done = 0;

    std::thread thread;

    void run();
    void read_object(size_t index);
    // Appends line to batch unless it is out of range; returns false (and sets
    // reason) if it is not a JSON object.
    bool add_line(Event &batch, std::string_view line, uint64_t number, std::string &reason);
    void push(Event &&event);
    void push_batch(Event &batch);
    void push_object_event(EventKind kind, size_t index, std::string key, std::string reason,
                           uint64_t bytes);
    void check_stop() {
        std::lock_guard<std::mutex> lock(mutex);
        if (stop)
            throw Stopped{};
    }
};

void ArchiveReader::State::push(Event &&event) {
    std::unique_lock<std::mutex> lock(mutex);
    // One batch waits in the queue at most, besides the one being filled and
    // the one the caller holds; small events always pass.
    changed.wait(lock, [&] { return stop || queued == 0 || event.kind != EventKind::lines; });
    if (stop)
        throw Stopped{};
    event.objects_done = objects_done;
    event.bytes_done = bytes_done;
    event.lines_done = lines_done;
    queued += event.weight();
    queue.push_back(std::move(event));
    changed.notify_all();
}

void ArchiveReader::State::push_batch(Event &batch) {
    if (batch.lines.empty())
        return;
    Event full;
    full.kind = EventKind::lines;
    full.object = batch.object;
    full.key = batch.key;
    std::swap(full.text, batch.text);
    std::swap(full.lines, batch.lines);
    std::swap(full.members, batch.members);
    batch.text.reserve(options.batch_bytes);
    push(std::move(full));
}

void ArchiveReader::State::push_object_event(EventKind kind, size_t index, std::string key,
                                             std::string reason, uint64_t bytes) {
    Event event;
    event.kind = kind;
    event.object = index;
    event.key = std::move(key);
    event.reason = std::move(reason);
    event.object_bytes = bytes;
    push(std::move(event));
}

bool ArchiveReader::State::add_line(Event &batch, std::string_view line, uint64_t number,
                                    std::string &reason) {
    const size_t count = names.size();
    json::LineScan scan =
        json::scan_line(line, names.data(), count, scratch.data(), depth_stack.data());
    if (!scan.valid) {
        reason = with_number("line ", number, " is not valid JSON: ") + scan.error + " at byte " +
                 std::to_string(scan.error_offset + 1);
        return false;
    }
    LineInfo info{};
    info.number = number;
    info.nul_escape = scan.nul_escape;
    info.escaped_key = scan.escaped_key;
    info.time = TimeState::text;
    if (options.time_member >= 0) {
        const json::MemberValue &time = scratch[size_t(options.time_member)];
        if (!time.present)
            return true; // a null time is in no range
        std::string_view text = line.substr(time.begin, time.length);
        if (text == "null")
            return true;
        if (options.parse_time && text.size() >= 2 && text.front() == '"' &&
            text.find('\\') == std::string_view::npos &&
            json::parse_timestamp_utc(text.substr(1, text.size() - 2), info.time_micros)) {
            if (info.time_micros < options.selection.range.start ||
                info.time_micros >= options.selection.range.end)
                return true;
            info.time = TimeState::parsed;
        }
    }
    if (options.digests) {
        crypto::Sha256Digest digest = crypto::sha256(line.data(), line.size());
        memcpy(info.digest, digest.data(), sizeof(info.digest));
    }
    info.offset = batch.text.size();
    info.length = uint32_t(line.size());
    batch.text.append(line.data(), line.size());
    batch.lines.push_back(info);
    batch.members.insert(batch.members.end(), scratch.begin(), scratch.begin() + long(count));
    return true;
}

void ArchiveReader::State::read_object(size_t index) {
    const SelectedObject &object = selection.objects[index];
    if (!object.manifest_problem.empty()) {
        objects_done++;
        push_object_event(EventKind::object_corrupt, index, object.key, object.manifest_problem, 0);
        return;
    }
    std::unique_ptr<ObjectReader> stored;
    try {
        stored = storage->open_read(object.key);
    } catch (const Error &e) {
        if (e.kind() != ErrorKind::not_found)
            throw;
        objects_done++;
        push_object_event(EventKind::object_lost, index, object.key,
                          "it was listed, but it is no longer there", 0);
        return;
    }
    Sha256Reader sha(*stored);
    GzipReader gzip(sha);
    LineReader reader(gzip, options.max_line_bytes);
    Event batch;
    batch.object = index;
    batch.key = object.key;
    batch.text.reserve(options.batch_bytes);
    const uint64_t bytes_before = bytes_done;
    uint64_t lines = 0;
    std::string reason;
    try {
        std::string_view line;
        while (reader.next(line)) {
            lines++;
            if ((lines & 1023) == 0)
                check_stop();
            if (!add_line(batch, line, reader.line_number(), reason))
                break;
            lines_done++;
            if (batch.text.size() >= options.batch_bytes) {
                bytes_done = bytes_before + sha.bytes_read();
                push_batch(batch);
            }
        }
    } catch (const Error &e) {
        if (e.kind() != ErrorKind::corrupt_data)
            throw;
        // A line longer than the limit is no fault of the object: stop, and
        // say what to change. (LineReader says so in its message only.)
        if (std::string_view(e.what()).find(" is longer than ") != std::string_view::npos)
            throw Error(ErrorKind::out_of_resources,
                        std::string(e.what()) + " in object " + storage->stored_key(object.key),
                        options.line_limit_detail);
        reason = e.what();
    }
    push_batch(batch);
    uint64_t stored_bytes = sha.bytes_read();
    bytes_done = bytes_before + stored_bytes;
    objects_done++;
    if (reason.empty() && object.manifest) {
        const Manifest &m = *object.manifest;
        if (sha.hex_digest() != m.sha256)
            reason = "its SHA-256 checksum does not match its manifest";
        else if (stored_bytes != m.stored_bytes)
            reason = "it holds " + std::to_string(stored_bytes) + " bytes, but its manifest says " +
                     std::to_string(m.stored_bytes);
        else if (lines != m.rows)
            reason = "it holds " + std::to_string(lines) + " rows, but its manifest says " +
                     std::to_string(m.rows);
        else if (gzip.bytes_out() != m.raw_bytes)
            reason = "it holds " + std::to_string(gzip.bytes_out()) +
                     " bytes of JSON, but its manifest says " + std::to_string(m.raw_bytes);
    }
    push_object_event(reason.empty() ? EventKind::object_done : EventKind::object_corrupt, index,
                      object.key, reason, stored_bytes);
}

void ArchiveReader::State::run() {
    try {
        if (options.only_keys.empty()) {
            selection = select_objects(*storage, options.selection, [this] {
                std::lock_guard<std::mutex> lock(mutex);
                return stop;
            });
        } else {
            for (const std::string &key : options.only_keys) {
                SelectedObject object;
                object.key = key;
                selection.objects.push_back(std::move(object));
            }
        }
        check_stop();
        {
            Event event;
            event.kind = EventKind::selected;
            push(std::move(event));
        }
        for (size_t i = 0; i < selection.lost.size(); i++)
            push_object_event(EventKind::object_lost, selection.objects.size() + i,
                              selection.lost[i],
                              "its manifest is there, but the object is not", 0);
        for (size_t i = 0; i < selection.objects.size(); i++)
            read_object(i);
        Event end;
        end.kind = EventKind::finished;
        push(std::move(end));
    } catch (const Stopped &) {
    } catch (...) {
        std::lock_guard<std::mutex> lock(mutex);
        failure = std::current_exception();
        changed.notify_all();
    }
}

ArchiveReader::ArchiveReader(std::shared_ptr<Storage> storage, ReaderOptions options)
    : state_(std::make_unique<State>()) {
    State &s = *state_;
    s.storage = std::move(storage);
    s.options = std::move(options);
    for (const std::string &name : s.options.members)
        s.names.emplace_back(name);
    s.scratch.resize(s.names.size() + 1);
    s.depth_stack.resize(json::max_scan_depth);
    s.thread = start_signal_free_thread([&s] { s.run(); });
}

ArchiveReader::~ArchiveReader() {
    {
        std::lock_guard<std::mutex> lock(state_->mutex);
        state_->stop = true;
        state_->changed.notify_all();
    }
    if (state_->thread.joinable())
        state_->thread.join();
}

bool ArchiveReader::next(EventView &view, std::chrono::milliseconds timeout) {
    State &s = *state_;
    std::unique_lock<std::mutex> lock(s.mutex);
    if (!s.changed.wait_for(lock, timeout, [&] { return !s.queue.empty() || s.failure; }))
        return false;
    if (s.queue.empty())
        std::rethrow_exception(s.failure);
    s.current = std::move(s.queue.front());
    s.queue.pop_front();
    s.queued -= s.current.weight();
    s.changed.notify_all();
    const Event &e = s.current;
    view = EventView{};
    view.kind = e.kind;
    view.object = e.object;
    view.key = e.key.c_str();
    view.reason = e.reason.c_str();
    view.text = e.text.data();
    view.lines = e.lines.data();
    view.line_count = e.lines.size();
    view.members = e.members.data();
    view.member_count = s.names.size();
    view.object_bytes = e.object_bytes;
    view.objects_total = s.selection.objects.size();
    view.bytes_total = s.selection.bytes;
    view.objects_listed = s.selection.table_objects;
    view.objects_done = e.objects_done;
    view.bytes_done = e.bytes_done;
    view.lines_done = e.lines_done;
    return true;
}

std::string ArchiveReader::stored_key(const std::string &key) const {
    return state_->storage->stored_key(key);
}

} // namespace convoy::archive
