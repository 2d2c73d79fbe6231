// The record of one backup object, stored next to it as a small JSON object:
// "backup/…/X.jsonl.gz" is described by "backup/…/X.manifest.json".
//
// A manifest is written only after its object is durable, and before the slot
// is confirmed (cdc) or the job completed (export): it never claims an object
// that is not there, and a crash between the two is healed by the replay, which
// writes both again under the same keys. See docs/catalog.md.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/core_only.hpp"

namespace convoy {

enum class ObjectSource { cdc, exported };

struct Manifest {
    int format = 1;
    std::string key;   // the data object's key (without the store's prefix)
    std::string table; // qualified name as configured, e.g. "convoy.events"
    ObjectSource source = ObjectSource::cdc;
    uint64_t rows = 0;
    uint64_t raw_bytes = 0;    // JSON Lines bytes before compression
    uint64_t stored_bytes = 0; // bytes of the stored (gzip) object
    std::string sha256;        // lowercase hex SHA-256 of the stored bytes
    // cdc: commit LSNs of the first and last row's transactions.
    uint64_t first_commit_lsn = 0, last_commit_lsn = 0;
    // export: the window [window_start, window_end), microseconds since the epoch (UTC).
    int64_t window_start_micros = 0, window_end_micros = 0;
    // The table's time column and the least and greatest of its non-null values
    // among the object's rows (absent when every row has NULL there, or no row).
    std::string time_column;
    std::optional<int64_t> time_min_micros, time_max_micros;
};

// "backup/…/X.jsonl.gz" -> "backup/…/X.manifest.json". Throws Error(invalid_key)
// for a key that does not end in ".jsonl.gz".
std::string manifest_key(std::string_view data_key);
// True for keys manifest_key() produces.
bool is_manifest_key(std::string_view key);

// One line of JSON (jansson), keys in a fixed order; times as RFC 3339 UTC with
// microseconds, LSNs as PostgreSQL prints a pg_lsn ("16/B374D848"); see
// manifest_values.hpp and docs/catalog.md.
std::string manifest_to_json(const Manifest &manifest);
// Throws Error(corrupt_data) naming what is wrong for text that is not a
// manifest of a known format.
Manifest manifest_from_json(std::string_view text);

} // namespace convoy
