// SHA-256 of bytes that arrive piece by piece (an object as it is uploaded), on
// libcrypto's EVP interface: the digest costs no second pass over the bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "core/core_only.hpp"

namespace convoy {

class Sha256Stream {
public:
    // Throws Error(internal) if libcrypto cannot set up the digest.
    Sha256Stream();
    ~Sha256Stream();
    Sha256Stream(const Sha256Stream &) = delete;
    Sha256Stream &operator=(const Sha256Stream &) = delete;

    void update(const void *data, size_t len);
    // Lowercase hex SHA-256 of every byte passed to update() so far; more may
    // follow. Throws Error(internal) if libcrypto fails.
    std::string hex_digest() const;
    uint64_t bytes() const noexcept { return bytes_; }

private:
    struct Context;
    std::unique_ptr<Context> context_;
    uint64_t bytes_ = 0;
};

} // namespace convoy
