#include "core/storage/sign/crypto.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "core/error.hpp"
#include "core/hex_digits.hpp"

namespace convoy::crypto {

namespace {

template <size_t N>
std::array<uint8_t, N> digest(const EVP_MD *md, const void *data, size_t len, const char *name) {
    std::array<uint8_t, N> out{};
    unsigned int out_len = 0;
    if (md == nullptr || EVP_Digest(data, len, out.data(), &out_len, md, nullptr) != 1 ||
        out_len != N)
        throw Error(ErrorKind::internal, std::string("could not compute ") + name + " digest");
    return out;
}

constexpr char base64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int base64_value(char c) {
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

} // namespace

Sha256Digest sha256(const void *data, size_t len) {
    return digest<32>(EVP_sha256(), data, len, "SHA-256");
}

Sha256::Sha256() : context_(EVP_MD_CTX_new()) {
    if (context_ == nullptr)
        throw Error(ErrorKind::out_of_resources, "out of memory",
                    "Could not allocate a SHA-256 context.");
    if (EVP_DigestInit_ex(static_cast<EVP_MD_CTX *>(context_), EVP_sha256(), nullptr) != 1) {
        EVP_MD_CTX_free(static_cast<EVP_MD_CTX *>(context_));
        throw Error(ErrorKind::internal, "could not compute SHA-256 digest");
    }
}

Sha256::~Sha256() { EVP_MD_CTX_free(static_cast<EVP_MD_CTX *>(context_)); }

void Sha256::update(const void *data, size_t len) {
    if (len > 0 && EVP_DigestUpdate(static_cast<EVP_MD_CTX *>(context_), data, len) != 1)
        throw Error(ErrorKind::internal, "could not compute SHA-256 digest");
}

Sha256Digest Sha256::digest() const {
    // Finishing consumes a context: finish a copy, so that updates may go on.
    EVP_MD_CTX *copy = EVP_MD_CTX_new();
    Sha256Digest out{};
    unsigned int out_len = 0;
    bool ok = copy != nullptr &&
              EVP_MD_CTX_copy_ex(copy, static_cast<const EVP_MD_CTX *>(context_)) == 1 &&
              EVP_DigestFinal_ex(copy, out.data(), &out_len) == 1 && out_len == out.size();
    EVP_MD_CTX_free(copy);
    if (!ok)
        throw Error(ErrorKind::internal, "could not compute SHA-256 digest");
    return out;
}

Md5Digest md5(const void *data, size_t len) { return digest<16>(EVP_md5(), data, len, "MD5"); }

Sha256Digest hmac_sha256(std::string_view key, std::string_view data) {
    Sha256Digest out{};
    unsigned int out_len = 0;
    if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
             reinterpret_cast<const unsigned char *>(data.data()), data.size(), out.data(),
             &out_len) == nullptr ||
        out_len != out.size())
        throw Error(ErrorKind::internal, "could not compute HMAC-SHA256");
    return out;
}

void secure_random(uint8_t *out, size_t len) {
    if (len > 0 && RAND_bytes(out, static_cast<int>(len)) != 1)
        throw Error(ErrorKind::internal, "could not generate random bytes");
}

std::string hex(const uint8_t *data, size_t len) {
    constexpr const char *digits = hex_digits_lower;
    std::string out;
    out.reserve(len * 2);
    for (size_t i = 0; i < len; i++) {
        out += digits[data[i] >> 4];
        out += digits[data[i] & 0x0f];
    }
    return out;
}

std::string base64(const uint8_t *data, size_t len) {
    std::string out;
    out.reserve((len + 2) / 3 * 4);
    size_t i = 0;
    for (; i + 3 <= len; i += 3) {
        uint32_t v = (uint32_t(data[i]) << 16) | (uint32_t(data[i + 1]) << 8) | data[i + 2];
        out += base64_alphabet[(v >> 18) & 63];
        out += base64_alphabet[(v >> 12) & 63];
        out += base64_alphabet[(v >> 6) & 63];
        out += base64_alphabet[v & 63];
    }
    if (len - i == 1) {
        uint32_t v = uint32_t(data[i]) << 16;
        out += base64_alphabet[(v >> 18) & 63];
        out += base64_alphabet[(v >> 12) & 63];
        out += "==";
    } else if (len - i == 2) {
        uint32_t v = (uint32_t(data[i]) << 16) | (uint32_t(data[i + 1]) << 8);
        out += base64_alphabet[(v >> 18) & 63];
        out += base64_alphabet[(v >> 12) & 63];
        out += base64_alphabet[(v >> 6) & 63];
        out += '=';
    }
    return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
    if (text.size() % 4 != 0)
        return std::nullopt;
    std::string out;
    out.reserve(text.size() / 4 * 3);
    for (size_t i = 0; i < text.size(); i += 4) {
        bool last = i + 4 == text.size();
        int v[4];
        int pad = 0;
        for (int j = 0; j < 4; j++) {
            char c = text[i + j];
            if (c == '=' && last && j >= 2) {
                v[j] = 0;
                pad++;
                continue;
            }
            if (pad > 0)
                return std::nullopt; // data after padding
            v[j] = base64_value(c);
            if (v[j] < 0)
                return std::nullopt;
        }
        uint32_t n = (uint32_t(v[0]) << 18) | (uint32_t(v[1]) << 12) | (uint32_t(v[2]) << 6) |
                     uint32_t(v[3]);
        out += static_cast<char>((n >> 16) & 0xff);
        if (pad < 2)
            out += static_cast<char>((n >> 8) & 0xff);
        if (pad < 1)
            out += static_cast<char>(n & 0xff);
    }
    return out;
}

} // namespace convoy::crypto
