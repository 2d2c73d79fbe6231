// Reads a table's backup back, on a thread of its own, while the backend that
// asked works on what was read before: selection (listing, manifests), then
// each object streamed through SHA-256, gunzip and line splitting; each line
// checked as JSON, its key and time members found, lines out of the time range
// dropped, and (for verify) a digest taken. The backend receives events: line
// batches, objects finished, corrupt or lost, and the end.
//
// Memory: two batches of lines in flight (batch_bytes each, or one line when a
// line is longer), the read and gunzip buffers and the longest line
// (max_line_bytes). The thread blocks every signal and calls no PostgreSQL
// function; it stops when the reader is destroyed.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/archive/selection.hpp"
#include "core/json/line_scan.hpp"
#include "core/storage/storage.hpp"
#include "core/core_only.hpp"

namespace convoy::archive {

struct ReaderOptions {
    SelectionSpec selection;
    // If not empty: read exactly these objects (keys without the store's
    // prefix), in this order, instead of listing the store; no manifest is read.
    std::vector<std::string> only_keys;
    // Top-level members to find in each line, as written between the quotes
    // of their keys.
    std::vector<std::string> members;
    // Index in members of the time column, or -1. Lines whose time is null
    // or absent are dropped; with parse_time, the time is read here (it must
    // be a timestamptz) and lines out of the range are dropped too.
    int time_member = -1;
    bool parse_time = false;
    bool digests = false;     // take a digest of each line (SHA-256, first 16 bytes)
    size_t max_line_bytes = 8 << 20;
    // The detail of the error a longer line raises: what to change.
    std::string line_limit_detail;
    size_t batch_bytes = 1 << 20;
};

enum class TimeState : uint8_t {
    parsed, // time_micros holds it
    text,   // the member's text must be read by the caller
};

struct LineInfo {
    uint64_t offset;  // in the batch's text
    uint32_t length;
    uint64_t number;  // 1-based line number in its object
    uint64_t digest[2];
    int64_t time_micros;
    TimeState time;
    bool nul_escape;  // a string holds the escape \u0000
    bool escaped_key; // a top-level key holds an escape
};

enum class EventKind {
    selected,       // the objects to read are known (totals set)
    lines,          // a batch of lines of one object
    object_done,    // an object was read whole and matches its manifest
    object_corrupt, // reason says why; lines of it may have come before
    object_lost,    // a manifest or the listing named it, but it is not there
    finished,       // nothing more
};

// A plain view of one event, valid until the next call of next().
struct EventView {
    EventKind kind;
    size_t object;      // index of the object (lines, object_*), counting from 0
    const char *key;    // its key without the store's prefix ("" for others)
    const char *reason; // object_corrupt and object_lost
    // lines
    const char *text;
    const LineInfo *lines;
    size_t line_count;
    const json::MemberValue *members; // line_count * member_count, line after line
    size_t member_count;
    uint64_t object_bytes; // object_done, object_corrupt: stored bytes read of it
    // progress, totals from the selection
    uint64_t objects_total, bytes_total, objects_listed;
    uint64_t objects_done, bytes_done, lines_done;
};

class ArchiveReader {
public:
    // Starts the thread. storage must not be used by anyone else meanwhile.
    ArchiveReader(std::shared_ptr<Storage> storage, ReaderOptions options);
    ~ArchiveReader();
    ArchiveReader(const ArchiveReader &) = delete;
    ArchiveReader &operator=(const ArchiveReader &) = delete;

    // Waits up to timeout for the next event; false when none came. Throws
    // the thread's convoy::Error if the store failed.
    bool next(EventView &view, std::chrono::milliseconds timeout);

    // The key as it is stored (with the store's prefix), for messages.
    std::string stored_key(const std::string &key) const;

private:
    struct State;
    std::unique_ptr<State> state_;
};

} // namespace convoy::archive
