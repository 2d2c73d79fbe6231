#include "core/error.hpp"
#include "core/storage/local/local_storage.hpp"

#include <memory>
#include <string>

#include "pg/settings.hpp"
#include "pg/storage_access.hpp"

namespace convoy::pg {

namespace {

// Built lazily and kept for the life of the process; rebuilt when its settings
// change. Never touched by PostgreSQL code, so no longjmp can skip its cleanup.
std::unique_ptr<Storage> storage;
std::string storage_settings;

std::string current_settings() {
    return std::to_string(setting_storage) + '\n' +
           (setting_on_prem_path ? setting_on_prem_path : "");
}

} // namespace

Storage &configured_storage() {
    std::string settings = current_settings();
    if (storage && settings == storage_settings)
        return *storage;
    storage.reset();
    switch (storage_kind()) {
    case StorageKind::on_prem:
        if (setting_on_prem_path == nullptr || setting_on_prem_path[0] == '\0')
            throw Error(ErrorKind::invalid_config, "convoy_backup.on_prem_path is not set",
                        "Set it to the directory that should receive backup objects.");
        storage = std::make_unique<LocalStorage>(setting_on_prem_path);
        break;
    }
    storage_settings = std::move(settings);
    return *storage;
}

} // namespace convoy::pg
