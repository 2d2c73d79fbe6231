// The one storage interface every writer of backup objects uses.
//
// An upload receives the object's bytes as a stream of unknown length and makes it
// visible under its key only on commit(): when commit() returns, the object is
// durable. An upload that is abandoned (abort(), or destroyed before commit())
// leaves no object under the key. Uploading to an existing key replaces the object.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "core/compress/gzip_writer.hpp"
#include "core/core_only.hpp"

namespace convoy {

class ObjectUpload : public ByteSink {
public:
    // Makes the object durable and visible under its key. Throws convoy::Error.
    virtual void commit() = 0;
    // Discards what was written. Never throws.
    virtual void abort() noexcept = 0;
};

class Storage {
public:
    virtual ~Storage() = default;
    // Starts an upload under key (validated with validate_object_key()).
    virtual std::unique_ptr<ObjectUpload> begin_upload(const std::string &key) = 0;
    // Where objects go, for messages and reports: never contains a secret.
    virtual std::string describe() const = 0;
    // The name key is stored under in this store (with the configured prefix),
    // as an operator would look it up there.
    virtual std::string stored_key(const std::string &key) const { return key; }
};

// Throws Error(invalid_key) unless key is a relative path of non-empty components,
// none of them "." or "..", with no NUL, no backslash and no leading or doubled '/'.
void validate_object_key(std::string_view key);

// key (or a path) as a message may show it: control bytes, NUL above all, which
// would cut a C string short, become \xNN.
std::string printable_key(std::string_view key);

} // namespace convoy
