// The storage backend selected by convoy_backup.storage, built from the settings
// in force and rebuilt when they change.
#pragma once

#include <memory>

#include "core/storage/storage.hpp"

namespace convoy::pg {

// Core-side call: it may throw convoy::Error, so call it only inside run_core().
// The caller shares ownership: a reload that rebuilds the storage never frees
// the one a running upload (or the cdc writer thread) still uses.
std::shared_ptr<Storage> configured_storage();

} // namespace convoy::pg
