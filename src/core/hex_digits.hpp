// The hexadecimal digits, for every encoder of the core that writes them
// (JSON escapes, bytea, percent-encoding, digests).
#pragma once

#include "core/core_only.hpp"

namespace convoy {

inline constexpr char hex_digits_lower[] = "0123456789abcdef";
inline constexpr char hex_digits_upper[] = "0123456789ABCDEF";

} // namespace convoy
