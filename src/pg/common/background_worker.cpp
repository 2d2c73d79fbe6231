#include "pg/common/background_worker.hpp"

namespace convoy::pg {

BackgroundWorker convoy_background_worker(const char *name, const char *function,
                                          int restart_secs) {
    BackgroundWorker worker;
    memset(&worker, 0, sizeof(worker));
    worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
    worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
    worker.bgw_restart_time = restart_secs;
    strlcpy(worker.bgw_library_name, "convoy_backup", BGW_MAXLEN);
    strlcpy(worker.bgw_function_name, function, BGW_MAXLEN);
    strlcpy(worker.bgw_name, name, BGW_MAXLEN);
    strlcpy(worker.bgw_type, name, BGW_MAXLEN);
    return worker;
}

void register_convoy_worker(const char *name, const char *function) {
    BackgroundWorker worker = convoy_background_worker(name, function, 10);
    // Started on a hot standby too, where they wait for promotion (see
    // wait_while_in_recovery()): the status and the log say why nothing runs,
    // and the backup starts as soon as the server is promoted.
    worker.bgw_start_time = BgWorkerStart_ConsistentState;
    RegisterBackgroundWorker(&worker);
}

} // namespace convoy::pg
