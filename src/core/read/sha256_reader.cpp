#include "core/read/sha256_reader.hpp"

#include "core/storage/sign/crypto.hpp"

namespace convoy {

struct Sha256Reader::State {
    ObjectReader &source;
    crypto::Sha256 hash;
    uint64_t bytes = 0;

    explicit State(ObjectReader &s) : source(s) {}
};

Sha256Reader::Sha256Reader(ObjectReader &source) : state_(std::make_unique<State>(source)) {}

Sha256Reader::~Sha256Reader() = default;

size_t Sha256Reader::read(uint8_t *buffer, size_t capacity) {
    size_t n = state_->source.read(buffer, capacity);
    state_->hash.update(buffer, n);
    state_->bytes += n;
    return n;
}

uint64_t Sha256Reader::bytes_read() const noexcept { return state_->bytes; }

std::string Sha256Reader::hex_digest() const { return crypto::hex(state_->hash.digest()); }

} // namespace convoy
