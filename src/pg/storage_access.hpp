// The storage backend selected by convoy_backup.storage, built from the settings
// in force and rebuilt when they change.
#pragma once

#include "core/storage/storage.hpp"

namespace convoy::pg {

// Core-side call: may throw convoy::Error, so call it only inside run_core().
Storage &configured_storage();

} // namespace convoy::pg
