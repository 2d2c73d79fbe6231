// Storage in an Amazon S3 bucket or an S3-compatible store, signed with AWS
// Signature V4 (the payload is always hashed; UNSIGNED-PAYLOAD is never used).
//
// An upload keeps one buffer of at most part_size bytes (larger only for very
// large objects, see below). If commit() comes before the buffer has ever filled,
// the object is written with one PUT; otherwise a multipart upload is started and
// each full buffer becomes a part, and commit() completes it. Every request with
// a body carries Content-MD5. A multipart upload that fails for good, or is
// aborted, is cancelled with AbortMultipartUpload (best effort: a bucket lifecycle
// rule for incomplete multipart uploads is the backstop). The abort goes out even
// when the upload was canceled (http::cleanup_options()).
//
// S3 allows 10,000 parts; so that a stream of unknown length never runs out, the
// part size doubles after every 1,000 parts (5 GiB at most).
//
// Reading back: list() pages through ListObjectsV2 (continuation tokens,
// list_page_size keys a page, keys URL-encoded by the service and decoded
// here); open_read() streams GetObject through http::Download (bounded buffer,
// resumed with Range and If-Match after a dropped connection).
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "core/storage/http/http_client.hpp"
#include "core/storage/storage.hpp"

#include "core/core_only.hpp"

namespace convoy {

struct S3Config {
    std::string bucket;            // required
    std::string region;            // empty = "us-east-1"
    std::string endpoint;          // empty = https://s3.<region>.amazonaws.com
    bool force_path_style = false; // https://host/bucket/key instead of https://bucket.host/key
    std::string access_key;        // required
    std::string secret_key;        // required; never shown
    std::string session_token;     // optional; never shown
    std::string prefix;            // joined to keys with exactly one '/'
    size_t part_size = 8 * 1024 * 1024;
    // Lets part_size go below S3's 5 MiB minimum; for tests against emulators.
    bool allow_small_parts = false;
    // Reading back: keys per listing page (1 to 1000, S3's maximum; tests use
    // small pages to see several) and the bytes a reader buffers.
    int list_page_size = 1000;
    size_t read_buffer_size = 256 * 1024;
    // TLS, timeouts, retries, cancellation.
    http::ClientOptions http;
};

namespace detail {
struct S3Context;
}

class S3Storage : public Storage {
public:
    // Checks the configuration (Error(invalid_config)); no request is made.
    explicit S3Storage(S3Config config);
    ~S3Storage() override;

    std::unique_ptr<ObjectUpload> begin_upload(const std::string &key) override;
    // "s3://bucket/prefix", plus the endpoint when it is not AWS's default.
    std::string describe() const override;
    std::string stored_key(const std::string &key) const override;
    void list(const std::string &prefix,
              const std::function<void(const ListedObject &)> &each) override;
    std::unique_ptr<ObjectReader> open_read(const std::string &key) override;

    static constexpr size_t min_part_size = 5 * 1024 * 1024;
    static constexpr size_t max_part_size = size_t(5) * 1024 * 1024 * 1024;
    static constexpr int max_parts = 10000;

private:
    std::shared_ptr<detail::S3Context> context_;
};

// Throws Error(invalid_config) unless bucket is a usable bucket name (checked
// when the setting is set, not only at the first write).
void check_s3_bucket_name(const std::string &bucket);

} // namespace convoy
