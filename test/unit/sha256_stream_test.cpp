#include "core/storage/sign/sha256_stream.hpp"

#include <gtest/gtest.h>

#include <string>

#include "core/storage/sign/crypto.hpp"
#include "test_support.hpp"

namespace {

using convoy::Sha256Stream;

TEST(Sha256Stream, KnownDigests) {
    Sha256Stream empty;
    EXPECT_EQ(empty.hex_digest(), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    Sha256Stream abc;
    abc.update("a", 1);
    abc.update("", 0);
    abc.update("bc", 2);
    EXPECT_EQ(abc.hex_digest(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    EXPECT_EQ(abc.bytes(), 3u);
}

// Pieces of any size hash as the whole; a digest taken midway does not end the stream.
TEST(Sha256Stream, PiecesEqualTheWhole) {
    const std::string data = convoy::test::random_bytes(1024 * 1024 + 17);
    Sha256Stream stream;
    size_t at = 0;
    for (size_t piece = 1; at < data.size(); piece = piece * 3 + 1) {
        size_t n = std::min(piece, data.size() - at);
        stream.update(data.data() + at, n);
        at += n;
        if (at == 5) {
            EXPECT_EQ(stream.hex_digest(),
                      convoy::crypto::hex(convoy::crypto::sha256(data.substr(0, 5))));
        }
    }
    EXPECT_EQ(stream.hex_digest(), convoy::crypto::hex(convoy::crypto::sha256(data)));
    EXPECT_EQ(stream.bytes(), data.size());
}

} // namespace
