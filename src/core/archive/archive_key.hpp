// What a key of the backup layout says about its object, read back from the
// name alone: backup/{date}/{table}/{file}, where file is a cdc batch
// ({timestamp}_{lsn}[_{n}]), an export window ({start}_export_{end}), each as
// ".jsonl.gz" data or its ".manifest.json" (see core/batch/object_key.hpp and
// core/catalog/manifest.hpp).
#pragma once

#include <cstdint>
#include <string_view>

#include "core/core_only.hpp"

namespace convoy::archive {

struct ArchiveKey {
    std::string_view table; // the table component, percent-encoded as in the key
    bool manifest;          // ".manifest.json" rather than ".jsonl.gz"
    bool exported;          // written by an export ("_export_" in the name)
    bool has_window;        // exported, and the window could be read from the name
    int64_t window_start_micros, window_end_micros;
};

// False for keys outside the layout (other depths, other endings).
bool parse_archive_key(std::string_view key, ArchiveKey &out) noexcept;

} // namespace convoy::archive
