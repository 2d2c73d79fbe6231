// The hexadecimal digits, for every encoder of the core that writes them
// (JSON escapes, bytea, percent-encoding, digests), and their values for every
// decoder that reads them (JSON \u escapes, percent-decoding).
#pragma once

#include "core/core_only.hpp"

namespace convoy {

inline constexpr char hex_digits_lower[] = "0123456789abcdef";
inline constexpr char hex_digits_upper[] = "0123456789ABCDEF";

// The value of a hexadecimal digit of either case, or -1 for any other byte.
inline constexpr int hex_digit_value(char c) noexcept {
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

} // namespace convoy
