// The digest verify matches lines with table rows by: the first 16 bytes of
// their SHA-256. One digester is set up once and used for line after line
// (libcrypto's one-shot call looks the algorithm up each time, which costs more
// than hashing a short line).
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/core_only.hpp"

namespace convoy::archive {

class LineDigester {
public:
    // Throws Error(internal) if libcrypto cannot set up SHA-256.
    LineDigester();
    ~LineDigester();
    LineDigester(const LineDigester &) = delete;
    LineDigester &operator=(const LineDigester &) = delete;

    // The digest of data[0, len), as two words. Throws Error(internal) if
    // libcrypto fails.
    void digest(const void *data, size_t len, uint64_t out[2]);

private:
    void *md_;      // EVP_MD *
    void *context_; // EVP_MD_CTX *
};

} // namespace convoy::archive
