// A backup object and its manifest, written in the order that makes the catalog
// trustworthy: the data object first, durable, and only then the manifest that
// describes it (see manifest.hpp and docs/catalog.md). Both modes write every
// object through here.
#pragma once

#include "core/batch/gzip_object.hpp"
#include "core/catalog/manifest.hpp"
#include "core/storage/storage.hpp"
#include "core/core_only.hpp"

namespace convoy {

// Stores manifest (one line of JSON) under manifest_key(manifest.key); durable
// when this returns. Throws convoy::Error.
void write_manifest(Storage &storage, const Manifest &manifest);

// Writes the object manifest.key from produce (see write_gzip_object()), then
// its manifest, filled in with the object's sizes and checksum. The producer
// may complete the manifest's rows and times while it runs (the caller's
// reference stays valid). If the manifest cannot be written, this throws like
// a failed object write: the caller must not treat the object as written (the
// retry writes both again under the same keys).
template <class Producer>
ObjectWritten write_cataloged_object(Storage &storage, Manifest &manifest, Producer &&produce,
                                     int gzip_level = 1,
                                     CompressOn compress_on = CompressOn::caller_and_helper) {
    ObjectWritten written = write_gzip_object(storage, manifest.key,
                                              std::forward<Producer>(produce), gzip_level,
                                              compress_on);
    manifest.raw_bytes = written.raw_bytes;
    manifest.stored_bytes = written.compressed_bytes;
    manifest.sha256 = written.sha256;
    write_manifest(storage, manifest);
    return written;
}

} // namespace convoy
