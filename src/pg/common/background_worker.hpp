// How convoy_backup describes its background workers to the postmaster.
#pragma once

extern "C" {
#include "postgres.h"
#include "postmaster/bgworker.h"
}

namespace convoy::pg {

// A worker of this library that runs `function` (an exported symbol) under
// `name`, with shared memory and a database connection, started once recovery
// has finished and restarted restart_secs after it exits with code 1.
BackgroundWorker convoy_background_worker(const char *name, const char *function,
                                          int restart_secs);

// Registers one at server start (from _PG_init), restarted after 10 seconds;
// unlike the others, it starts on a hot standby too, and must begin with
// wait_while_in_recovery() (common/worker_wait.hpp).
void register_convoy_worker(const char *name, const char *function);

} // namespace convoy::pg
