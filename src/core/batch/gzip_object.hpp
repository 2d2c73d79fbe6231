// Streams bytes through gzip into one storage object: the single path by which a
// batch of rows becomes a durable backup object, for every mode and backend.
#pragma once

#include <cstdint>
#include <string>
#include <utility>

#include "core/compress/gzip_writer.hpp"
#include "core/storage/sign/sha256_stream.hpp"
#include "core/storage/storage.hpp"
#include "core/core_only.hpp"

namespace convoy {

struct ObjectWritten {
    std::string key;
    uint64_t raw_bytes = 0;
    uint64_t compressed_bytes = 0;
    std::string sha256; // lowercase hex SHA-256 of the stored (compressed) bytes
};

// Hashes the bytes on their way into the upload: the checksum a manifest
// records is of exactly what was stored, at no second read.
class HashingSink : public ByteSink {
public:
    explicit HashingSink(ByteSink &next) : next_(next) {}
    void write(const uint8_t *data, size_t len) override {
        hash_.update(data, len);
        next_.write(data, len);
    }
    std::string hex_digest() const { return hash_.hex_digest(); }

private:
    ByteSink &next_;
    Sha256Stream hash_;
};

// produce(emit) calls emit(const char *data, size_t len) for each span of the
// object's uncompressed bytes, in order. When this returns, the object is
// durable; if anything throws, the upload is aborted and the exception passes on.
// compress_on: see gzip_writer.hpp.
template <class Producer>
ObjectWritten write_gzip_object(Storage &storage, const std::string &key, Producer &&produce,
                                int gzip_level = 1,
                                CompressOn compress_on = CompressOn::caller_and_helper) {
    std::unique_ptr<ObjectUpload> upload = storage.begin_upload(key);
    try {
        HashingSink hashed(*upload);
        GzipWriter gzip(hashed, gzip_level, 64 * 1024, compress_on);
        produce([&gzip](const char *data, size_t len) { gzip.write(std::string_view(data, len)); });
        gzip.finish();
        std::string sha256 = hashed.hex_digest();
        upload->commit();
        return ObjectWritten{key, gzip.bytes_in(), gzip.bytes_out(), std::move(sha256)};
    } catch (...) {
        upload->abort();
        throw;
    }
}

} // namespace convoy
