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

} // namespace convoy::pg
