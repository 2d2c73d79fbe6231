#include "core/archive/archive_key.hpp"
#include "core/json/timestamp_scan.hpp"

namespace convoy::archive {

namespace {

constexpr std::string_view data_suffix = ".jsonl.gz";
constexpr std::string_view manifest_suffix = ".manifest.json";
constexpr std::string_view export_marker = "_export_";

bool ends_with(std::string_view s, std::string_view suffix) noexcept {
    return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

} // namespace

bool parse_archive_key(std::string_view key, ArchiveKey &out) noexcept {
    std::string_view parts[4];
    size_t count = 0, begin = 0;
    for (size_t i = 0; i <= key.size(); i++) {
        if (i == key.size() || key[i] == '/') {
            if (count == 4)
                return false;
            parts[count++] = key.substr(begin, i - begin);
            begin = i + 1;
        }
    }
    if (count != 4 || parts[0] != "backup" || parts[1].empty() || parts[2].empty())
        return false;
    std::string_view file = parts[3];
    std::string_view stem;
    if (ends_with(file, data_suffix)) {
        out.manifest = false;
        stem = file.substr(0, file.size() - data_suffix.size());
    } else if (ends_with(file, manifest_suffix)) {
        out.manifest = true;
        stem = file.substr(0, file.size() - manifest_suffix.size());
    } else {
        return false;
    }
    if (stem.empty())
        return false;
    out.table = parts[2];
    size_t marker = stem.find(export_marker);
    out.exported = marker != std::string_view::npos;
    out.has_window = false;
    out.window_start_micros = out.window_end_micros = 0;
    if (out.exported) {
        std::string_view start = stem.substr(0, marker);
        std::string_view end = stem.substr(marker + export_marker.size());
        out.has_window = json::parse_timestamp_utc(start, out.window_start_micros) &&
                         json::parse_timestamp_utc(end, out.window_end_micros) &&
                         out.window_start_micros < out.window_end_micros;
    }
    return true;
}

} // namespace convoy::archive
