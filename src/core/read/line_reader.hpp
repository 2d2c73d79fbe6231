// Splits a stream of JSON Lines into lines without holding more than the
// longest line (bounded by max_line_bytes) plus one read buffer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/storage/storage.hpp"
#include "core/core_only.hpp"

namespace convoy {

class LineReader {
public:
    LineReader(ObjectReader &source, size_t max_line_bytes, size_t read_buffer = 256 * 1024);

    // Sets line to the next line without its '\n' and returns true; false at the
    // end. The view is valid until the next call. Throws Error(corrupt_data) for
    // a line longer than max_line_bytes or a last line without its '\n' (the
    // writer ends every line with one: a missing one means a truncated object).
    bool next(std::string_view &line);
    // 1-based number of the line last returned.
    uint64_t line_number() const noexcept { return line_number_; }

private:
    ObjectReader &source_;
    size_t max_line_bytes_;
    size_t read_size_; // bytes asked of source_ at a time
    std::string buffer_;
    size_t begin_ = 0, end_ = 0;
    size_t scanned_ = 0; // [begin_, scanned_) holds no '\n'
    bool at_end_ = false;
    uint64_t line_number_ = 0;
};

} // namespace convoy
