// Storage in an Azure Blob Storage container (block blobs), authorized with the
// account key (Shared Key) or a SAS token.
//
// The container is created on first use if it does not exist (409
// ContainerAlreadyExists is fine; with a SAS that may not create containers, a
// 403 there is ignored and the upload itself tells whether the container exists).
// An upload keeps one buffer of at most block_size bytes: an object that fits is
// written with one Put Blob; a larger one with Put Block for each full buffer and
// Put Block List on commit(). Block ids start with a random nonce of the upload,
// so two uploads of one blob at the same time never mix their blocks. Every
// request with a body carries Content-MD5.
// Uncommitted blocks of an abandoned upload cannot be deleted through the API;
// the service discards them after about a week and they never become visible.
//
// Azure allows 50,000 blocks; so that a stream of unknown length never runs out,
// the block size doubles after every 5,000 blocks (4000 MiB at most).
//
// Reading back: list() pages through List Blobs (marker and NextMarker,
// list_page_size names a page; a SAS needs the list permission); open_read()
// streams Get Blob through http::Download (bounded buffer, resumed with
// x-ms-range and If-Match after a dropped connection). Neither creates the
// container.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "core/storage/http/http_client.hpp"
#include "core/storage/storage.hpp"

#include "core/core_only.hpp"

namespace convoy {

struct AzureConfig {
    std::string account_name; // required
    // Exactly one of these two is required; never shown.
    std::string account_key; // base64, as the portal shows it
    std::string sas_token;   // "sv=...&sig=...", with or without a leading '?'
    std::string container;   // required: 3-63 lowercase letters, digits and '-'
    // Empty = https://<account>.blob.core.windows.net. For Azurite:
    // http://127.0.0.1:10000/<account> (the account is then part of the path).
    std::string endpoint;
    std::string prefix; // joined to keys with exactly one '/'
    size_t block_size = 8 * 1024 * 1024;
    bool create_container = true;
    // Reading back: names per listing page (1 to 5000, the service's maximum;
    // tests use small pages to see several) and the bytes a reader buffers.
    int list_page_size = 1000;
    size_t read_buffer_size = 256 * 1024;
    // TLS, timeouts, retries, cancellation.
    http::ClientOptions http;
};

namespace detail {
struct AzureContext;
}

class AzureBlobStorage : public Storage {
public:
    // Checks the configuration (Error(invalid_config)); no request is made.
    explicit AzureBlobStorage(AzureConfig config);
    ~AzureBlobStorage() override;

    std::unique_ptr<ObjectUpload> begin_upload(const std::string &key) override;
    // "azure://account/container/prefix", plus the endpoint when it is not the
    // default one.
    std::string describe() const override;
    std::string stored_key(const std::string &key) const override;
    void list(const std::string &prefix,
              const std::function<void(const ListedObject &)> &each) override;
    std::unique_ptr<ObjectReader> open_read(const std::string &key) override;

    // The x-ms-version every request sends.
    static constexpr const char *api_version = "2021-08-06";
    static constexpr size_t max_block_size = size_t(4000) * 1024 * 1024;
    static constexpr int max_blocks = 50000;

private:
    std::shared_ptr<detail::AzureContext> context_;
};

// Throw Error(invalid_config) unless the name is usable (checked when the
// setting is set, not only at the first write).
void check_azure_account_name(const std::string &account);
void check_azure_container_name(const std::string &container);

} // namespace convoy
