// Whether convoy_backup.database exists, asked before a worker connects to it.
//
// Connecting to a database that does not exist ends a background worker with a
// FATAL error, and the postmaster would start it again every 10 seconds, logging
// the same error each time. Instead, each worker first asks a short-lived helper
// worker that connects to no database (it reads the shared catalog pg_database)
// and, while the database is missing, says so once and asks again quietly.
#pragma once

namespace convoy::pg {

// Who asks: each has its own answer slot in shared memory.
enum class DatabaseAsker { cdc_worker = 0, export_scheduler = 1, export_runner = 2 };

// Returns once convoy_backup.database exists (or cannot be checked: no free
// background worker slot, in which case connecting tells). Meanwhile logs once,
// records the problem for convoy_backup_status(), and checks every 10 seconds.
// Call it before BackgroundWorkerInitializeConnection().
void wait_for_database(DatabaseAsker asker, const char *worker_name);

} // namespace convoy::pg
