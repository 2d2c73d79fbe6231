// Export mode's two workers:
//   scheduler  enqueues one job per convoy_backup.interval window (export mode
//              only), heartbeats the job the runner is working on, and publishes
//              how far the export has got;
//   runner     claims jobs (scheduled, and manual ones in every mode) with
//              FOR UPDATE SKIP LOCKED and exports them.
// The runner reads each window in one read-only REPEATABLE READ transaction,
// so it cannot write heartbeats itself; the scheduler writes them for it while
// the runner's process is alive.
#pragma once

namespace convoy::pg {

void register_export_workers();

} // namespace convoy::pg
