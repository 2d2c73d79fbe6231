// The one storage interface every writer of backup objects uses.
//
// An upload receives the object's bytes as a stream of unknown length and makes it
// visible under its key only on commit(): when commit() returns, the object is
// durable. An upload that is abandoned (abort(), or destroyed before commit())
// leaves no object under the key. Uploading to an existing key replaces the object.
#pragma once

#include <cstdint>
#include <functional>
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

// The bytes of one stored object, in order, as they arrive: memory stays bounded
// by the reader's buffer, never by the object's size.
class ObjectReader {
public:
    virtual ~ObjectReader() = default;
    // Copies up to capacity bytes into buffer and returns how many; 0 only at the
    // end of the object. Throws convoy::Error (storage_io, storage_unavailable,
    // storage_auth) when the store fails past its retries.
    virtual size_t read(uint8_t *buffer, size_t capacity) = 0;
};

// One object found by Storage::list().
struct ListedObject {
    std::string key; // as passed to begin_upload(): without the store's prefix
    uint64_t size = 0;
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

    // Calls each() for every object whose key starts with prefix, in byte order
    // of the keys, fetching page after page (S3 continuation tokens, Azure
    // markers, a directory walk): memory is bounded by one page, not by the
    // number of objects. prefix (checked with validate_key_prefix()) is relative
    // to the store's configured prefix, so nothing outside it can be listed.
    // Names there that are no valid key (another tool's "dir/" marker, say) are
    // skipped, as open_read() would refuse them. Throws convoy::Error; an
    // exception from each() stops the listing and passes through.
    virtual void list(const std::string &prefix,
                      const std::function<void(const ListedObject &)> &each) = 0;
    // Opens key (validated with validate_object_key()) for a streaming read.
    // Throws Error(not_found) when there is no such object.
    virtual std::unique_ptr<ObjectReader> open_read(const std::string &key) = 0;
};

// Throws Error(invalid_key) unless key is a relative path of non-empty components,
// none of them "." or "..", with no NUL, no backslash and no leading or doubled '/'.
void validate_object_key(std::string_view key);

// Throws Error(invalid_key) unless prefix can begin a key: empty, or a valid
// key up to its last '/', followed by the start of a name without NUL or
// backslash ("backup/2026-11-25/", "backup/2026-11-25/convoy.ev").
void validate_key_prefix(std::string_view prefix);

// key (or a path) as a message may show it: control bytes, NUL above all, which
// would cut a C string short, become \xNN.
std::string printable_key(std::string_view key);

} // namespace convoy
