// Builds the Storage that convoy_backup.storage names from the settings in force.
// Boundary: core side. Called only inside run_core() (it throws convoy::Error
// and owns C++ objects); it reads settings but calls no PostgreSQL function.
#include "core/error.hpp"
#include "core/storage/azure/azure_blob_storage.hpp"
#include "core/storage/local/local_storage.hpp"
#include "core/storage/s3/s3_storage.hpp"

#include <chrono>
#include <memory>
#include <string>

#include "pg/common/settings.hpp"
#include "pg/common/storage_access.hpp"

extern "C" {
#include "miscadmin.h"
#include "postmaster/interrupt.h"
}

#include "pg/cdc/batches.hpp"
#include "pg/cdc/writer.hpp"

namespace convoy::pg {

namespace {

// Built lazily and kept for the life of the process; rebuilt when its settings
// change. Never touched by PostgreSQL code, so no longjmp can skip its cleanup.
// Shared: a job of the cdc worker's background writer keeps the one it started
// with while a reload builds the next.
std::shared_ptr<Storage> storage;
// The settings it was built from. It holds secrets: it is compared, never shown.
std::string storage_settings;

std::string text(const char *value) { return value ? value : ""; }

std::chrono::steady_clock::time_point final_flush_deadline;

bool final_flush_overdue() { return std::chrono::steady_clock::now() > final_flush_deadline; }

std::string current_settings() {
    std::string all;
    for (const char *value :
         {setting_on_prem_path, setting_s3_bucket, setting_s3_region, setting_s3_endpoint,
          setting_s3_access_key, setting_s3_secret_key, setting_s3_session_token, setting_s3_prefix,
          setting_azure_account_name, setting_azure_account_key, setting_azure_sas_token,
          setting_azure_container, setting_azure_endpoint, setting_azure_prefix,
          setting_storage_ca_file}) {
        all += text(value);
        all += '\n';
    }
    for (int value : {setting_storage, setting_on_prem_file_mode, int(setting_s3_force_path_style),
                      setting_s3_part_size_kb,
                      setting_azure_block_size_kb, setting_storage_timeout_secs}) {
        all += std::to_string(value);
        all += '\n';
    }
    return all;
}

[[noreturn]] void missing(const char *setting, const char *kind) {
    throw Error(ErrorKind::invalid_config, std::string(setting) + " is not set",
                std::string("It is required when convoy_backup.storage is ") + kind + ".");
}

http::ClientOptions client_options() {
    http::ClientOptions options;
    options.ca_file = text(setting_storage_ca_file);
    options.request_timeout_ms = long(setting_storage_timeout_secs) * 1000;
    // Reads flags only, never calls PostgreSQL: a query cancel or shutdown
    // request stops a slow request instead of waiting for its timeout (but not
    // the cdc worker's last flush before it stops, which is what it stops for).
    options.canceled = [] {
        return QueryCancelPending || ProcDiePending || cdc_writer_abandoned ||
               (ShutdownRequestPending && (!cdc_final_flush || final_flush_overdue()));
    };
    return options;
}

std::shared_ptr<Storage> build_s3() {
    S3Config config;
    config.bucket = text(setting_s3_bucket);
    config.region = text(setting_s3_region);
    config.endpoint = text(setting_s3_endpoint);
    config.force_path_style = setting_s3_force_path_style;
    config.access_key = text(setting_s3_access_key);
    config.secret_key = text(setting_s3_secret_key);
    config.session_token = text(setting_s3_session_token);
    config.prefix = text(setting_s3_prefix);
    config.part_size = size_t(setting_s3_part_size_kb) * 1024;
    config.http = client_options();
    if (config.bucket.empty())
        missing("convoy_backup.s3_bucket", "s3");
    if (config.access_key.empty())
        missing("convoy_backup.s3_access_key", "s3");
    if (config.secret_key.empty())
        missing("convoy_backup.s3_secret_key", "s3");
    return std::make_shared<S3Storage>(std::move(config));
}

std::shared_ptr<Storage> build_azure() {
    AzureConfig config;
    config.account_name = text(setting_azure_account_name);
    config.account_key = text(setting_azure_account_key);
    config.sas_token = text(setting_azure_sas_token);
    config.container = text(setting_azure_container);
    config.endpoint = text(setting_azure_endpoint);
    config.prefix = text(setting_azure_prefix);
    config.block_size = size_t(setting_azure_block_size_kb) * 1024;
    config.http = client_options();
    if (config.account_name.empty())
        missing("convoy_backup.azure_account_name", "azure_blob");
    if (config.container.empty())
        missing("convoy_backup.azure_container", "azure_blob");
    if (config.account_key.empty() && config.sas_token.empty())
        throw Error(ErrorKind::invalid_config,
                    "neither convoy_backup.azure_account_key nor convoy_backup.azure_sas_token is set",
                    "One of them is required when convoy_backup.storage is azure_blob.");
    return std::make_shared<AzureBlobStorage>(std::move(config));
}

} // namespace

void start_final_flush_clock() {
    final_flush_deadline =
        std::chrono::steady_clock::now() + std::chrono::seconds(final_flush_budget_secs);
}

std::shared_ptr<Storage> configured_storage() {
    std::string settings = current_settings();
    if (storage && settings == storage_settings)
        return storage;
    storage.reset();
    storage_settings.clear();
    switch (storage_kind()) {
    case StorageKind::on_prem:
        if (setting_on_prem_path == nullptr || setting_on_prem_path[0] == '\0')
            throw Error(ErrorKind::invalid_config, "convoy_backup.on_prem_path is not set",
                        "Set it to the directory that should receive backup objects.");
        storage = std::make_shared<LocalStorage>(setting_on_prem_path,
                                                 mode_t(setting_on_prem_file_mode));
        break;
    case StorageKind::s3:
        storage = build_s3();
        break;
    case StorageKind::azure_blob:
        storage = build_azure();
        break;
    }
    storage_settings = std::move(settings);
    return storage;
}

} // namespace convoy::pg
