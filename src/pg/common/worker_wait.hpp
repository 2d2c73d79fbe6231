// How convoy_backup's background workers sleep and wake.
#pragma once

namespace convoy::pg {

// Sleeps until the process latch is set, fd becomes readable (fd >= 0), or
// timeout_ms pass; exits the process if the postmaster dies.
void wait_for_latch_or_fd(int fd, long timeout_ms);

// What a worker does after waking: serves interrupts (a terminate request ends
// the process) and a pending configuration reload.
void serve_interrupts_and_reload();

// Reads the configuration file again (after SIGHUP), and counts it.
void reload_configuration();
// How many reloads this process has served: a write waiting to be retried is
// retried at once after one, since it may have fixed the cause.
uint64 reloads_served();

// A problem that restarting cannot get past: says so once (a LOG "<worker>
// <what>: <message>" with hint, and in convoy_backup_status() if record_status),
// then waits quietly, serving reloads, until resolved(arg) holds, and logs
// "<worker> <resumed>". No restart loop, no repeated message. Exits on a
// shutdown request.
void wait_until_resolved(const char *worker, const char *what, const char *message,
                         const char *hint, const char *resumed, bool record_status,
                         bool (*resolved)(void *), void *arg);

// On a standby (in recovery): says so once, as wait_until_resolved() does
// (hint: what happens after promotion), and returns once the server has been
// promoted. Returns whether it waited. Call it before connecting to a database.
bool wait_while_in_recovery(const char *worker, const char *hint, bool record_status);

// Returns once no setting that decides what is backed up holds a refused value
// (see rejected_setting() in common/settings.hpp), waiting meanwhile as
// wait_until_resolved() does. Call it before the worker does anything else.
void wait_while_settings_rejected(const char *worker, bool record_status);

} // namespace convoy::pg
