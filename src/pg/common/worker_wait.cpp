extern "C" {
#include "postgres.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/interrupt.h"
#include "storage/latch.h"
#include "utils/guc.h"
}

#include "pg/common/worker_wait.hpp"

namespace convoy::pg {

void wait_for_latch_or_fd(int fd, long timeout_ms) {
    int events = WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH;
    if (fd >= 0)
        events |= WL_SOCKET_READABLE;
    int rc = WaitLatchOrSocket(MyLatch, events, fd, timeout_ms, PG_WAIT_EXTENSION);
    if (rc & WL_LATCH_SET)
        ResetLatch(MyLatch);
}

namespace {
uint64 reload_count = 0;
}

void reload_configuration() {
    ConfigReloadPending = false;
    ProcessConfigFile(PGC_SIGHUP);
    reload_count++;
}

uint64 reloads_served() { return reload_count; }

void serve_interrupts_and_reload() {
    CHECK_FOR_INTERRUPTS();
    if (ConfigReloadPending)
        reload_configuration();
}

} // namespace convoy::pg
