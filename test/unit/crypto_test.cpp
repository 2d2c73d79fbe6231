// Hashes, HMAC and base64 of the request signers, against RFC test vectors.
#include "core/storage/sign/crypto.hpp"

#include <gtest/gtest.h>

#include <array>
#include <string>

namespace {

using namespace convoy::crypto;

TEST(Crypto, Sha256KnownValues) {
    EXPECT_EQ(hex(sha256("")), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    EXPECT_EQ(hex(sha256("abc")),
              "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    EXPECT_EQ(hex(sha256("Welcome to Amazon S3.")),
              "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
}

TEST(Crypto, Md5KnownValues) {
    EXPECT_EQ(hex(md5("")), "d41d8cd98f00b204e9800998ecf8427e");
    EXPECT_EQ(hex(md5("The quick brown fox jumps over the lazy dog")),
              "9e107d9d372bb6826bd81d3542a419d6");
    // Content-MD5 as S3 and Azure want it: base64 of the raw digest.
    EXPECT_EQ(base64(md5("")), "1B2M2Y8AsgTpgAmY7PhCfg==");
}

TEST(Crypto, HmacSha256Rfc4231) {
    // RFC 4231 test case 2.
    EXPECT_EQ(hex(hmac_sha256("Jefe", "what do ya want for nothing?")),
              "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    // RFC 4231 test case 1: key 0x0b x 20, "Hi There".
    EXPECT_EQ(hex(hmac_sha256(std::string(20, '\x0b'), "Hi There")),
              "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
}

TEST(Crypto, Base64Rfc4648) {
    EXPECT_EQ(base64(std::string_view("")), "");
    EXPECT_EQ(base64(std::string_view("f")), "Zg==");
    EXPECT_EQ(base64(std::string_view("fo")), "Zm8=");
    EXPECT_EQ(base64(std::string_view("foo")), "Zm9v");
    EXPECT_EQ(base64(std::string_view("foob")), "Zm9vYg==");
    EXPECT_EQ(base64(std::string_view("fooba")), "Zm9vYmE=");
    EXPECT_EQ(base64(std::string_view("foobar")), "Zm9vYmFy");
    EXPECT_EQ(base64(std::string_view("\xfb\xff")), "+/8=");
}

TEST(Crypto, Base64DecodeIsStrict) {
    EXPECT_EQ(base64_decode("Zm9vYmFy").value(), "foobar");
    EXPECT_EQ(base64_decode("Zm9vYg==").value(), "foob");
    EXPECT_EQ(base64_decode("Zm9vYmE=").value(), "fooba");
    EXPECT_EQ(base64_decode("").value(), "");
    EXPECT_EQ(base64_decode("+/8=").value(), "\xfb\xff");
    EXPECT_FALSE(base64_decode("Zm9vYg"));    // no padding
    EXPECT_FALSE(base64_decode("Zm9v Yg==")); // whitespace
    EXPECT_FALSE(base64_decode("Zm=vYg=="));  // padding in the middle
    EXPECT_FALSE(base64_decode("Zm9vYg=a"));  // data after padding
    EXPECT_FALSE(base64_decode("Zm9-"));      // URL alphabet
    // Round trip of every byte value.
    std::string all;
    for (int i = 0; i < 256; i++)
        all += static_cast<char>(i);
    EXPECT_EQ(base64_decode(base64(all)).value(), all);
}

TEST(Crypto, SecureRandomDiffersBetweenCalls) {
    std::array<uint8_t, 16> a{}, b{};
    secure_random(a.data(), a.size());
    secure_random(b.data(), b.size());
    EXPECT_NE(a, b);
}

} // namespace
