// Streaming gzip decompression of a stored object: every member of a
// multi-member stream (GzipWriter writes one per 2 MiB of input), with memory
// bounded by the buffers, whatever the object's size.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "core/storage/storage.hpp"
#include "core/core_only.hpp"

namespace convoy {

class GzipReader : public ObjectReader {
public:
    // compressed must outlive the reader.
    explicit GzipReader(ObjectReader &compressed, size_t in_buffer = 64 * 1024);
    ~GzipReader() override;
    GzipReader(const GzipReader &) = delete;
    GzipReader &operator=(const GzipReader &) = delete;

    // Decompressed bytes; 0 at the end of the last member. Throws
    // Error(corrupt_data) for bytes that are not gzip, a bad CRC or length, or a
    // stream that ends inside a member.
    size_t read(uint8_t *buffer, size_t capacity) override;

    uint64_t bytes_in() const noexcept;  // compressed bytes consumed
    uint64_t bytes_out() const noexcept; // decompressed bytes produced

private:
    struct State;
    std::unique_ptr<State> state_;
};

} // namespace convoy
