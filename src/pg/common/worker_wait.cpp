extern "C" {
#include "postgres.h"
#include "access/xlog.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/interrupt.h"
#include "storage/latch.h"
#include "utils/guc.h"

#include "storage/ipc.h"
}

#include "pg/common/settings.hpp"
#include "pg/common/shared_state.hpp"
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

namespace {

// wait_until_resolved(), checking every poll_ms.
void wait_quietly(const char *worker, const char *what, const char *message, const char *hint,
                  const char *resumed, bool record_status, bool (*resolved)(void *), void *arg,
                  long poll_ms) {
    if (resolved(arg))
        return;
    if (record_status)
        record_error(-1, message);
    ereport(LOG, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                  errmsg("%s %s: %s", worker, what, message), errhint("%s", hint)));
    do {
        wait_for_latch_or_fd(-1, poll_ms);
        CHECK_FOR_INTERRUPTS();
        if (ShutdownRequestPending)
            proc_exit(1);
        if (ConfigReloadPending)
            reload_configuration();
    } while (!resolved(arg));
    if (record_status)
        clear_error(-1);
    ereport(LOG, (errmsg("%s %s", worker, resumed)));
}

bool recovery_ended(void *) { return !RecoveryInProgress(); }

} // namespace

void wait_until_resolved(const char *worker, const char *what, const char *message,
                         const char *hint, const char *resumed, bool record_status,
                         bool (*resolved)(void *), void *arg) {
    wait_quietly(worker, what, message, hint, resumed, record_status, resolved, arg, 5000);
}

bool wait_while_in_recovery(const char *worker, const char *hint, bool record_status) {
    if (!RecoveryInProgress())
        return false;
    // Promotion sends the worker no signal: a short poll, so that a promoted
    // server's backup starts within a fraction of a second.
    wait_quietly(worker, "waits for promotion", "this server is a standby (in recovery)", hint,
                 "starts: this server was promoted", record_status, recovery_ended, nullptr, 250);
    return true;
}

namespace {

bool no_setting_rejected(void *) { return rejected_setting() == nullptr; }

} // namespace

void wait_while_settings_rejected(const char *worker, bool record_status) {
    const RejectedSetting *rejected = rejected_setting();
    if (rejected == nullptr)
        return;
    char message[512];
    char hint[512];
    snprintf(message, sizeof(message), "invalid value for parameter \"%s\": \"%s\"",
             rejected->name, rejected->value);
    if (rejected->restart_only)
        snprintf(hint, sizeof(hint),
                 "Correct %s in postgresql.conf and restart the server; the server log at "
                 "startup says why the value was rejected. Nothing is backed up until then.",
                 rejected->name);
    else
        snprintf(hint, sizeof(hint),
                 "Correct %s in postgresql.conf and reload the configuration; the server log "
                 "says why the value was rejected. Nothing is backed up until then.",
                 rejected->name);
    wait_until_resolved(worker, "refuses to run", message, hint,
                        "runs: the rejected setting was corrected", record_status,
                        no_setting_rejected, nullptr);
}

} // namespace convoy::pg
