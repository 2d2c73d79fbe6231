// Hashes, HMAC, random bytes and encodings the storage clients need, on
// OpenSSL's libcrypto.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/core_only.hpp"

namespace convoy::crypto {

using Sha256Digest = std::array<uint8_t, 32>;
using Md5Digest = std::array<uint8_t, 16>;

// Each throws Error(internal) if libcrypto fails (for example MD5 refused by a
// FIPS-only provider).
Sha256Digest sha256(const void *data, size_t len);
Md5Digest md5(const void *data, size_t len);
Sha256Digest hmac_sha256(std::string_view key, std::string_view data);

inline Sha256Digest sha256(std::string_view data) { return sha256(data.data(), data.size()); }

// SHA-256 of bytes that arrive piece by piece (an object being read).
class Sha256 {
public:
    Sha256(); // throws Error(internal) or Error(out_of_resources)
    ~Sha256();
    Sha256(const Sha256 &) = delete;
    Sha256 &operator=(const Sha256 &) = delete;

    void update(const void *data, size_t len);
    // The digest of every byte passed to update() so far; more may follow.
    Sha256Digest digest() const;

private:
    void *context_; // EVP_MD_CTX *
};
inline Md5Digest md5(std::string_view data) { return md5(data.data(), data.size()); }

// len bytes from OpenSSL's cryptographically secure generator.
void secure_random(uint8_t *out, size_t len);

// Lowercase hexadecimal.
std::string hex(const uint8_t *data, size_t len);
template <size_t N> std::string hex(const std::array<uint8_t, N> &d) { return hex(d.data(), N); }

// Standard base64 (RFC 4648 section 4) with padding.
std::string base64(const uint8_t *data, size_t len);
inline std::string base64(std::string_view data) {
    return base64(reinterpret_cast<const uint8_t *>(data.data()), data.size());
}
template <size_t N> std::string base64(const std::array<uint8_t, N> &d) {
    return base64(d.data(), N);
}

// Strict decoding of standard base64: padding required, no whitespace. Returns
// nullopt for anything else.
std::optional<std::string> base64_decode(std::string_view text);

// The digest as a byte string (for HMAC keys chained from digests).
template <size_t N> std::string_view as_bytes(const std::array<uint8_t, N> &d) {
    return std::string_view(reinterpret_cast<const char *>(d.data()), N);
}

} // namespace convoy::crypto
