// The storage backend selected by convoy_backup.storage, built from the settings
// in force and rebuilt when they change.
#pragma once

#include <memory>

#include "core/storage/storage.hpp"

namespace convoy::pg {

// Core-side calls: they may throw convoy::Error, so call them only inside
// run_core(). The shared one outlives a rebuild after a reload.
Storage &configured_storage();
std::shared_ptr<Storage> shared_configured_storage();

} // namespace convoy::pg
