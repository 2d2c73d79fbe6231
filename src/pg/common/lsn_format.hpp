// LSN_FORMAT_ARGS() type-checks its argument with __builtin_types_compatible_p,
// which only C has; this is the same pair of halves for "%X/%X" in C++.
#pragma once

#define CONVOY_LSN_ARGS(lsn) static_cast<uint32>((lsn) >> 32), static_cast<uint32>(lsn)
