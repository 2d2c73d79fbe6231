// The one exception type of the core. Each kind maps to a SQLSTATE class in the
// PostgreSQL layer (src/pg/boundary.hpp), so converted errors keep a meaningful code.
#pragma once

#include <stdexcept>
#include <string>
#include <utility>

#include "core/core_only.hpp"

namespace convoy {

enum class ErrorKind {
    invalid_config,      // a setting that cannot work (22023)
    invalid_key,         // an object key that is malformed or would escape the store (22023)
    storage_io,          // the store failed to read or write; retrying may help (58030)
    storage_auth,        // the store refused our credentials; retrying will not help (28000)
    storage_unavailable, // the store could not be reached or is overloaded (08006)
    not_found,           // a stored object that was expected is not there (58P01)
    corrupt_data,        // stored bytes that do not decode as written (XX001)
    out_of_resources,    // memory or similar ran out (53200)
    internal,            // a bug: "cannot happen" (XX000)
};

class Error : public std::runtime_error {
public:
    // message: one line, lowercase, no final period (PostgreSQL's primary style).
    // detail: complete sentences, or empty.
    Error(ErrorKind kind, std::string message, std::string detail = {})
        : std::runtime_error(std::move(message)), kind_(kind), detail_(std::move(detail)) {}

    ErrorKind kind() const noexcept { return kind_; }
    const std::string &detail() const noexcept { return detail_; }

private:
    ErrorKind kind_;
    std::string detail_;
};

// A setting that cannot work: the stores' constructors check theirs with this.
[[noreturn]] inline void throw_config_error(std::string message, std::string detail = {}) {
    throw Error(ErrorKind::invalid_config, std::move(message), std::move(detail));
}

} // namespace convoy
