// Passes an object's bytes through while hashing them, so a checksum of the
// stored bytes costs no second read.
#pragma once

#include <memory>
#include <string>

#include "core/storage/storage.hpp"
#include "core/core_only.hpp"

namespace convoy {

class Sha256Reader : public ObjectReader {
public:
    explicit Sha256Reader(ObjectReader &source);
    ~Sha256Reader() override;
    size_t read(uint8_t *buffer, size_t capacity) override;
    uint64_t bytes_read() const noexcept;
    // Lowercase hex SHA-256 of every byte read so far.
    std::string hex_digest() const;

private:
    struct State;
    std::unique_ptr<State> state_;
};

} // namespace convoy
