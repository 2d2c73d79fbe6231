#include "pg/common/slot_position.hpp"

extern "C" {
#include "replication/slot.h"
#include "storage/lwlock.h"
#include "storage/spin.h"
}

#include "pg/common/settings.hpp"

namespace convoy::pg {

XLogRecPtr slot_confirmed_position(bool *exists) {
    LWLockAcquire(ReplicationSlotControlLock, LW_SHARED);
    ReplicationSlot *slot = SearchNamedReplicationSlot(setting_slot_name, false);
    XLogRecPtr confirmed = InvalidXLogRecPtr;
    if (exists)
        *exists = slot != nullptr;
    if (slot) {
        SpinLockAcquire(&slot->mutex);
        confirmed = slot->data.confirmed_flush;
        SpinLockRelease(&slot->mutex);
    }
    LWLockRelease(ReplicationSlotControlLock);
    return confirmed;
}

} // namespace convoy::pg
