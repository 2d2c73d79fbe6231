// Registration of the cdc worker (its main function is convoy_backup_cdc_main).
#pragma once

namespace convoy::pg {

// Called from _PG_init while shared_preload_libraries are loaded.
void register_cdc_worker();

} // namespace convoy::pg
