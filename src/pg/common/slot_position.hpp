// The replication slot's own confirmed position, read from the slot itself: right
// whether or not the cdc worker runs.
#pragma once

extern "C" {
#include "postgres.h"
#include "access/xlogdefs.h"
}

namespace convoy::pg {

// convoy_backup.slot_name's confirmed_flush; InvalidXLogRecPtr (and *exists
// false, when given) if there is no such slot.
XLogRecPtr slot_confirmed_position(bool *exists = nullptr);

} // namespace convoy::pg
