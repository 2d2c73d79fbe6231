#include "core/archive/line_digest.hpp"
#include "core/error.hpp"

#include <openssl/evp.h>

#include <cstring>

namespace convoy::archive {

LineDigester::LineDigester()
    : md_(EVP_MD_fetch(nullptr, "SHA256", nullptr)), context_(EVP_MD_CTX_new()) {
    if (md_ == nullptr || context_ == nullptr) {
        EVP_MD_free(static_cast<EVP_MD *>(md_));
        EVP_MD_CTX_free(static_cast<EVP_MD_CTX *>(context_));
        throw Error(ErrorKind::internal, "could not set up SHA-256 in libcrypto");
    }
}

LineDigester::~LineDigester() {
    EVP_MD_CTX_free(static_cast<EVP_MD_CTX *>(context_));
    EVP_MD_free(static_cast<EVP_MD *>(md_));
}

void LineDigester::digest(const void *data, size_t len, uint64_t out[2]) {
    EVP_MD_CTX *ctx = static_cast<EVP_MD_CTX *>(context_);
    unsigned char full[EVP_MAX_MD_SIZE];
    unsigned int full_len = 0;
    if (EVP_DigestInit_ex2(ctx, static_cast<EVP_MD *>(md_), nullptr) != 1 ||
        EVP_DigestUpdate(ctx, data, len) != 1 || EVP_DigestFinal_ex(ctx, full, &full_len) != 1 ||
        full_len != 32)
        throw Error(ErrorKind::internal, "SHA-256 failed in libcrypto");
    memcpy(out, full, 16);
}

} // namespace convoy::archive
