// The table list the cdc worker decodes under, kept on disk so that a change of
// convoy_backup.tables applies from the same WAL position after a crash.
//
// A new list applies from the WAL position at which the worker read it (see
// cdc/worker.cpp); rows committed before it are backed up under the old list.
// Until decoding reaches that position both lists matter, and a crash in
// between must not lose them: the worker keeps {list in force, pending switch
// position, pending list} in $PGDATA/convoy_backup/tables.state, written
// durably (temporary file, fsync, rename, directory fsync) with a checksum.
#pragma once

extern "C" {
#include "postgres.h"
#include "access/xlogdefs.h"
}

#include "pg/common/settings.hpp"

namespace convoy::pg {

struct TableListState {
    ConfiguredTables in_force;
    XLogRecPtr switch_at; // InvalidXLogRecPtr: no switch pending
    ConfiguredTables pending;
};

// Reads the state; false when there is none (first start) or it cannot be
// used (logged as a WARNING), in which case the caller starts from the setting.
bool load_table_list_state(TableListState *state);

// Writes the state durably; ERROR if it cannot.
void save_table_list_state(const TableListState &state);

} // namespace convoy::pg
