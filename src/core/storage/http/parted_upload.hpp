// The buffering shared by the S3 and Azure uploads: bytes collect in one buffer
// of at most one part; a full buffer becomes a part only when more bytes follow,
// so an object that fits in one part is written with a single request on
// commit(). The part size doubles every parts_per_step parts (up to
// max_part_size) so that a stream of unknown length does not run out of parts.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/storage/storage.hpp"

#include "core/core_only.hpp"

namespace convoy::http {

struct PartLimits {
    size_t part_size;     // the first parts' size
    size_t max_part_size; // growth stops here
    int max_parts;        // the service's limit
    int parts_per_step;   // parts of one size before it doubles
};

class PartedUpload : public ObjectUpload {
public:
    void write(const uint8_t *data, size_t len) final;
    void commit() final;
    void abort() noexcept final;

    // The size part number n (from 1) is given, from the limits; for tests.
    static size_t part_size_for(const PartLimits &limits, int n);

protected:
    explicit PartedUpload(PartLimits limits) : limits_(limits) {}
    // Derived destructors call this: the upload is aborted unless committed.
    void abort_unless_done() noexcept;

    // The whole object, when commit() comes before any part was sent.
    virtual void put_single(const uint8_t *data, size_t len) = 0;
    // Part number n (1, 2, ...). Not the last part unless finish_parts() follows.
    virtual void put_part(int n, const uint8_t *data, size_t len) = 0;
    // Makes the object out of parts 1..count.
    virtual void finish_parts(int count) = 0;
    // Undoes the parts sent so far (best effort); called at most once, only
    // when at least one put_part() was attempted and finish_parts() did not succeed.
    virtual void cancel_parts() noexcept = 0;
    // For messages: "s3://bucket/key".
    virtual std::string location() const = 0;

private:
    void send_part();
    template <typename F> void guarded(F &&f);

    PartLimits limits_;
    std::vector<uint8_t> buffer_;
    int parts_sent_ = 0;
    bool parts_started_ = false;
    bool closed_ = false;
    bool done_ = false; // committed or aborted
};

} // namespace convoy::http
