// Shared memory for convoy_backup, requested through PostgreSQL 15's
// shmem_request_hook and laid out in shmem_startup_hook.
#include "core/batch/table_buffers.hpp"

#include "pg/common/shared_state.hpp"

extern "C" {
#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/shmem.h"
#include "utils/timestamp.h"
}

namespace convoy::pg {

static_assert(max_backup_tables == int(TableBuffers::max_tables),
              "each configured table needs its own queue in the pool");

namespace {

constexpr const char *lock_tranche = "convoy_backup";
constexpr const char *state_name = "convoy_backup shared state";

SharedState *state = nullptr;
shmem_request_hook_type previous_request_hook = nullptr;
shmem_startup_hook_type previous_startup_hook = nullptr;

Size pool_bytes() { return static_cast<Size>(setting_buffer_size_kb) * 1024; }

Size shared_state_size() {
    return add_size(offsetof(SharedState, pool), TableBuffers::region_size(pool_bytes()));
}

void request_shared_memory() {
    if (previous_request_hook)
        previous_request_hook();
    RequestAddinShmemSpace(shared_state_size());
    RequestNamedLWLockTranche(lock_tranche, 1);
}

void startup_shared_memory() {
    if (previous_startup_hook)
        previous_startup_hook();

    LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
    bool found = false;
    state = static_cast<SharedState *>(ShmemInitStruct(state_name, shared_state_size(), &found));
    if (!found) {
        memset(state, 0, offsetof(SharedState, pool));
        state->lock = &(GetNamedLWLockTranche(lock_tranche))->lock;
        state->confirmed_lsn = InvalidXLogRecPtr;
        state->buffer_bytes = pool_bytes();
        TableBuffers::format(state->pool, pool_bytes());
    }
    LWLockRelease(AddinShmemInitLock);
}

void set_error(char *dest, const char *message) {
    strlcpy(dest, message ? message : "", max_error_text);
}

} // namespace

void request_shared_state() {
    previous_request_hook = shmem_request_hook;
    shmem_request_hook = request_shared_memory;
    previous_startup_hook = shmem_startup_hook;
    shmem_startup_hook = startup_shared_memory;
}

SharedState *shared_state() { return state; }

void record_error(int table, const char *message) {
    if (state == nullptr)
        return;
    LWLockAcquire(state->lock, LW_EXCLUSIVE);
    if (table >= 0 && table < max_backup_tables)
        set_error(state->tables[table].last_error, message);
    set_error(state->last_error, message);
    state->last_error_time = GetCurrentTimestamp();
    LWLockRelease(state->lock);
}

void clear_error(int table) {
    if (state == nullptr)
        return;
    LWLockAcquire(state->lock, LW_EXCLUSIVE);
    if (table >= 0 && table < max_backup_tables)
        state->tables[table].last_error[0] = '\0';
    else
        state->last_error[0] = '\0';
    LWLockRelease(state->lock);
}

} // namespace convoy::pg
