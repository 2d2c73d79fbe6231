// Sha256Reader and the incremental SHA-256 under it.
#include "core/read/sha256_reader.hpp"

#include <gtest/gtest.h>

#include <string>

#include "core/storage/sign/crypto.hpp"
#include "test_support.hpp"

namespace {

namespace crypto = convoy::crypto;
using convoy::Sha256Reader;
using convoy::test::read_all;
using convoy::test::StringReader;

TEST(Sha256, IncrementalEqualsOneShot) {
    std::string data = convoy::test::random_bytes(1000003);
    crypto::Sha256 hash;
    EXPECT_EQ(crypto::hex(hash.digest()),
              "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    size_t pos = 0;
    for (size_t piece : {size_t(1), size_t(63), size_t(64), size_t(65), size_t(500000)}) {
        hash.update(data.data() + pos, piece);
        pos += piece;
        // A digest on the way does not disturb what follows.
        EXPECT_EQ(hash.digest(), crypto::sha256(data.data(), pos));
    }
    hash.update(data.data() + pos, data.size() - pos);
    EXPECT_EQ(hash.digest(), crypto::sha256(data));
}

TEST(Sha256Reader, PassesBytesThroughAndHashesThem) {
    std::string data = convoy::test::random_bytes(300001);
    StringReader source(data, 4097);
    Sha256Reader reader(source);
    EXPECT_EQ(reader.hex_digest(), crypto::hex(crypto::sha256("")));
    EXPECT_TRUE(read_all(reader, 1000) == data);
    EXPECT_EQ(reader.bytes_read(), data.size());
    EXPECT_EQ(reader.hex_digest(), crypto::hex(crypto::sha256(data)));
    // At the end, further reads return 0 and change nothing.
    uint8_t b;
    EXPECT_EQ(reader.read(&b, 1), 0u);
    EXPECT_EQ(reader.hex_digest(), crypto::hex(crypto::sha256(data)));
}

TEST(Sha256Reader, KnownValue) {
    StringReader source("abc");
    Sha256Reader reader(source);
    EXPECT_EQ(read_all(reader), "abc");
    EXPECT_EQ(reader.hex_digest(),
              "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

} // namespace
