// The least and greatest value of a table's time column among some rows, in
// microseconds since the Unix epoch (UTC): what a manifest records as
// time_min/time_max. Plain data (zeroed means "no value yet"), so that it can
// live in shared memory next to the rows it describes.
#pragma once

#include <cstdint>

#include "core/catalog/manifest.hpp"
#include "core/core_only.hpp"

namespace convoy {

struct TimeRange {
    bool seen; // false until a non-null value was noted
    int64_t min_micros;
    int64_t max_micros;

    void note(int64_t micros) noexcept {
        if (!seen) {
            seen = true;
            min_micros = max_micros = micros;
        } else if (micros < min_micros) {
            min_micros = micros;
        } else if (micros > max_micros) {
            max_micros = micros;
        }
    }

    void merge(const TimeRange &other) noexcept {
        if (other.seen) {
            note(other.min_micros);
            note(other.max_micros);
        }
    }

    // Sets manifest.time_min_micros and time_max_micros (absent if none seen).
    void describe(Manifest &manifest) const {
        manifest.time_min_micros.reset();
        manifest.time_max_micros.reset();
        if (seen) {
            manifest.time_min_micros = min_micros;
            manifest.time_max_micros = max_micros;
        }
    }
};

} // namespace convoy
