#include "core/storage/sign/sha256_stream.hpp"

#include <openssl/evp.h>

#include "core/error.hpp"
#include "core/storage/sign/crypto.hpp"

namespace convoy {

struct Sha256Stream::Context {
    EVP_MD_CTX *md = nullptr;
    ~Context() { EVP_MD_CTX_free(md); }
};

namespace {

[[noreturn]] void digest_failed() {
    throw Error(ErrorKind::internal, "could not compute SHA-256 digest");
}

} // namespace

Sha256Stream::Sha256Stream() : context_(std::make_unique<Context>()) {
    context_->md = EVP_MD_CTX_new();
    if (context_->md == nullptr || EVP_DigestInit_ex(context_->md, EVP_sha256(), nullptr) != 1)
        digest_failed();
}

Sha256Stream::~Sha256Stream() = default;

void Sha256Stream::update(const void *data, size_t len) {
    if (len == 0)
        return;
    if (EVP_DigestUpdate(context_->md, data, len) != 1)
        digest_failed();
    bytes_ += len;
}

std::string Sha256Stream::hex_digest() const {
    // Finishing a copy leaves this stream open for more bytes.
    Context copy;
    copy.md = EVP_MD_CTX_new();
    crypto::Sha256Digest digest{};
    unsigned int len = 0;
    if (copy.md == nullptr || EVP_MD_CTX_copy_ex(copy.md, context_->md) != 1 ||
        EVP_DigestFinal_ex(copy.md, digest.data(), &len) != 1 || len != digest.size())
        digest_failed();
    return crypto::hex(digest);
}

} // namespace convoy
