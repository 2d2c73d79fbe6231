// Which stored objects can hold a table's rows of a time range: every key under
// backup/ is listed (only keys the store's own listing returns, under its
// configured prefix, are ever read), the table's data objects are paired with
// their manifests, and an object is kept unless its manifest or its export
// window shows that none of its rows fall in the range. An object without a
// manifest (written before manifests existed, or whose manifest was lost) is
// kept whole.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/catalog/manifest.hpp"
#include "core/storage/storage.hpp"
#include "core/core_only.hpp"

namespace convoy::archive {

// [start, end) in microseconds since the epoch; INT64_MIN / INT64_MAX stand
// for -infinity / infinity.
struct TimeRange {
    int64_t start;
    int64_t end;
    bool overlaps(int64_t lo, int64_t hi_inclusive) const noexcept {
        return lo < end && hi_inclusive >= start;
    }
};

struct SelectionSpec {
    std::string table;       // the table component of the keys (percent-encoded)
    std::string time_column; // the table's time column: manifests of another column prune nothing
    TimeRange range;
};

struct SelectedObject {
    std::string key;  // data object's key (without the store's prefix)
    uint64_t size = 0;
    bool exported = false;
    std::optional<Manifest> manifest;
    std::string manifest_problem; // non-empty: a manifest is there but cannot be used
};

struct Selection {
    std::vector<SelectedObject> objects; // in key order
    // Data objects that a manifest describes, of rows that may be in range,
    // but that are not in the store.
    std::vector<std::string> lost;
    uint64_t bytes = 0;        // stored bytes of the selected objects
    uint64_t table_objects = 0; // data objects of the table listed
};

// The most bytes a manifest may have.
constexpr size_t max_manifest_bytes = 1 << 20;

// Throws convoy::Error when the store fails. canceled() is asked between
// manifests; true stops with Error(storage_io).
Selection select_objects(Storage &storage, const SelectionSpec &spec,
                         const std::function<bool()> &canceled);

// Reads a whole small object (at most limit bytes, else Error(corrupt_data)).
std::string read_small_object(Storage &storage, const std::string &key, size_t limit);

} // namespace convoy::archive
