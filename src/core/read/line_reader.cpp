#include "core/read/line_reader.hpp"

#include <cstring>

#include "core/error.hpp"

namespace convoy {

LineReader::LineReader(ObjectReader &source, size_t max_line_bytes, size_t read_buffer)
    : source_(source), max_line_bytes_(max_line_bytes),
      read_size_(read_buffer > 0 ? read_buffer : 1), buffer_(read_size_, '\0') {}

bool LineReader::next(std::string_view &line) {
    for (;;) {
        const char *base = buffer_.data();
        const void *nl = std::memchr(base + scanned_, '\n', end_ - scanned_);
        if (nl != nullptr) {
            size_t at = static_cast<size_t>(static_cast<const char *>(nl) - base);
            if (at - begin_ > max_line_bytes_)
                break; // reported below
            line = std::string_view(base + begin_, at - begin_);
            begin_ = scanned_ = at + 1;
            line_number_++;
            return true;
        }
        scanned_ = end_;
        if (end_ - begin_ > max_line_bytes_)
            break;
        if (at_end_) {
            if (begin_ == end_)
                return false;
            throw Error(ErrorKind::corrupt_data,
                        "line " + std::to_string(line_number_ + 1) +
                            " has no end of line: the object is truncated");
        }
        // Keep only the partial line, then read more after it.
        if (begin_ > 0) {
            std::memmove(&buffer_[0], buffer_.data() + begin_, end_ - begin_);
            end_ -= begin_;
            scanned_ -= begin_;
            begin_ = 0;
        }
        if (buffer_.size() - end_ < read_size_)
            buffer_.resize(end_ + read_size_);
        size_t n = source_.read(reinterpret_cast<uint8_t *>(&buffer_[end_]), buffer_.size() - end_);
        if (n == 0)
            at_end_ = true;
        end_ += n;
    }
    throw Error(ErrorKind::corrupt_data, "line " + std::to_string(line_number_ + 1) +
                                             " is longer than " + std::to_string(max_line_bytes_) +
                                             " bytes");
}

} // namespace convoy
