#include "core/storage/http/parted_upload.hpp"

#include <algorithm>

#include "core/error.hpp"

namespace convoy::http {

size_t PartedUpload::part_size_for(const PartLimits &limits, int n) {
    size_t size = limits.part_size;
    int steps = limits.parts_per_step > 0 ? (n - 1) / limits.parts_per_step : 0;
    for (int i = 0; i < steps && size < limits.max_part_size; i++)
        size *= 2;
    return std::min(size, limits.max_part_size);
}

template <typename F> void PartedUpload::guarded(F &&f) {
    try {
        f();
    } catch (...) {
        abort();
        throw;
    }
}

void PartedUpload::write(const uint8_t *data, size_t len) {
    if (closed_)
        throw Error(ErrorKind::internal,
                    "cannot write to an upload that is already committed or aborted");
    while (len > 0) {
        size_t limit = part_size_for(limits_, parts_sent_ + 1);
        if (buffer_.size() >= limit) {
            // More bytes follow, so the full buffer is not the last part.
            guarded([&] { send_part(); });
            limit = part_size_for(limits_, parts_sent_ + 1);
        }
        size_t n = std::min(len, limit - buffer_.size());
        // Grow geometrically, never past the part size: a small object does not
        // cost a whole part's memory, a large one never more than one part.
        if (buffer_.size() + n > buffer_.capacity())
            buffer_.reserve(std::min(limit, std::max(buffer_.size() + n, 2 * buffer_.capacity())));
        buffer_.insert(buffer_.end(), data, data + n);
        data += n;
        len -= n;
    }
}

void PartedUpload::send_part() {
    int n = parts_sent_ + 1;
    if (n > limits_.max_parts)
        throw Error(ErrorKind::storage_io, "could not upload " + location() +
                                               ": the object needs more than " +
                                               std::to_string(limits_.max_parts) + " parts");
    parts_started_ = true;
    put_part(n, buffer_.data(), buffer_.size());
    parts_sent_ = n;
    buffer_.clear();
}

void PartedUpload::commit() {
    if (closed_)
        throw Error(ErrorKind::internal,
                    "cannot commit an upload that is already committed or aborted");
    closed_ = true;
    guarded([&] {
        if (!parts_started_) {
            put_single(buffer_.data(), buffer_.size());
        } else {
            if (!buffer_.empty())
                send_part();
            finish_parts(parts_sent_);
        }
    });
    done_ = true;
    std::vector<uint8_t>().swap(buffer_);
}

void PartedUpload::abort() noexcept {
    closed_ = true;
    std::vector<uint8_t>().swap(buffer_);
    if (done_)
        return;
    done_ = true;
    if (parts_started_)
        cancel_parts();
}

void PartedUpload::abort_unless_done() noexcept {
    if (!done_)
        abort();
}

} // namespace convoy::http
