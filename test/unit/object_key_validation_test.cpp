#include <gtest/gtest.h>

#include <string>

#include "core/error.hpp"
#include "core/storage/storage.hpp"

namespace {

using convoy::Error;
using convoy::ErrorKind;
using convoy::validate_object_key;

TEST(ValidateObjectKey, AcceptsRelativePaths) {
    for (const char *key :
         {"a", "a/b", "a/b/c.jsonl.gz",
          "backup/2026-11-25/convoy.events/2026-11-25T06:01:40.123456Z_00000000016B3748.jsonl.gz",
          ".hidden", "a/.b", "..a", "a..", "a/...", "x/%2E%2E/y", "sp ace/\xC3\xA9"})
        EXPECT_NO_THROW(validate_object_key(key)) << key;
}

std::string refusal(const std::string &key) {
    try {
        validate_object_key(key);
    } catch (const Error &e) {
        EXPECT_EQ(e.kind(), ErrorKind::invalid_key) << key;
        return e.what();
    }
    ADD_FAILURE() << "accepted: " << key;
    return {};
}

TEST(ValidateObjectKey, RefusesBadKeys) {
    EXPECT_EQ(refusal(""), "invalid object key \"\": the key is empty");
    EXPECT_EQ(refusal("/etc/passwd"), "invalid object key \"/etc/passwd\": the key must be a "
                                      "relative path");
    EXPECT_EQ(refusal("a//b"),
              "invalid object key \"a//b\": the key contains an empty path component");
    EXPECT_EQ(refusal("a\\b"), "invalid object key \"a\\b\": the key contains a backslash");
    EXPECT_EQ(refusal("/"), "invalid object key \"/\": the key must be a relative path");
    for (const char *key : {"a/", "a/b/", "a///b"})
        EXPECT_NE(refusal(key).find("empty path component"), std::string::npos) << key;
    for (const char *key : {".", "..", "./a", "../a", "a/.", "a/..", "a/../b", "a/./b"})
        EXPECT_NE(refusal(key).find("\".\" or \"..\" path component"), std::string::npos) << key;
}

TEST(ValidateObjectKey, NulByteIsRefusedAndShownEscaped) {
    std::string key("a\0b", 3);
    EXPECT_EQ(refusal(key), "invalid object key \"a\\x00b\": the key contains a NUL byte");
}

} // namespace
