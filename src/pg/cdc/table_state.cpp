// The cdc worker's table list state file (see cdc/table_state.hpp).
extern "C" {
#include "postgres.h"
#include "common/file_perm.h"
#include "port/pg_crc32c.h"
#include "storage/fd.h"
}

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pg/cdc/table_state.hpp"

namespace convoy::pg {

namespace {

constexpr const char *state_directory = "convoy_backup";
constexpr const char *state_path = "convoy_backup/tables.state";
constexpr const char *temporary_path = "convoy_backup/tables.state.tmp";
constexpr uint32 state_magic = 0x43425453; // "CBTS"
constexpr uint32 state_version = 1;        // bump when TableListState changes

struct StateFile {
    uint32 magic;
    uint32 version;
    uint32 size; // sizeof(TableListState) when written
    pg_crc32c checksum;
    TableListState state;
};

pg_crc32c checksum_of(const TableListState &state) {
    pg_crc32c crc;
    INIT_CRC32C(crc);
    COMP_CRC32C(crc, &state, sizeof(state));
    FIN_CRC32C(crc);
    return crc;
}

void ensure_state_directory() {
    struct stat st;
    if (stat(state_directory, &st) == 0)
        return;
    if (MakePGDirectory(state_directory) < 0 && errno != EEXIST)
        ereport(ERROR, (errcode_for_file_access(),
                        errmsg("could not create directory \"%s\": %m", state_directory)));
    fsync_fname(".", true);
}

} // namespace

bool load_table_list_state(TableListState *state) {
    int fd = OpenTransientFile(state_path, O_RDONLY | PG_BINARY);
    if (fd < 0) {
        if (errno != ENOENT)
            ereport(ERROR, (errcode_for_file_access(),
                            errmsg("could not open file \"%s\": %m", state_path)));
        return false;
    }
    StateFile *file = static_cast<StateFile *>(palloc0(sizeof(StateFile)));
    ssize_t got = read(fd, file, sizeof(StateFile));
    CloseTransientFile(fd);
    bool usable = got == ssize_t(sizeof(StateFile)) && file->magic == state_magic &&
                  file->version == state_version && file->size == sizeof(TableListState) &&
                  EQ_CRC32C(file->checksum, checksum_of(file->state));
    if (usable)
        memcpy(state, &file->state, sizeof(TableListState));
    else
        ereport(WARNING, (errcode(ERRCODE_DATA_CORRUPTED),
                          errmsg("ignoring convoy_backup state file \"%s\"", state_path),
                          errdetail("It is not a valid file of this version."),
                          errhint("The worker starts from convoy_backup.tables as configured.")));
    pfree(file);
    return usable;
}

void save_table_list_state(const TableListState &state) {
    ensure_state_directory();
    StateFile *file = static_cast<StateFile *>(palloc0(sizeof(StateFile)));
    file->magic = state_magic;
    file->version = state_version;
    file->size = sizeof(TableListState);
    memcpy(&file->state, &state, sizeof(TableListState));
    file->checksum = checksum_of(file->state);

    int fd = OpenTransientFile(temporary_path, O_WRONLY | O_CREAT | O_TRUNC | PG_BINARY);
    if (fd < 0)
        ereport(ERROR, (errcode_for_file_access(),
                        errmsg("could not create file \"%s\": %m", temporary_path)));
    errno = 0;
    if (write(fd, file, sizeof(StateFile)) != ssize_t(sizeof(StateFile))) {
        if (errno == 0)
            errno = ENOSPC; // a short write without an error: assume a full disk
        ereport(ERROR, (errcode_for_file_access(),
                        errmsg("could not write file \"%s\": %m", temporary_path)));
    }
    if (pg_fsync(fd) != 0)
        ereport(data_sync_elevel(ERROR), (errcode_for_file_access(),
                                          errmsg("could not fsync file \"%s\": %m", temporary_path)));
    if (CloseTransientFile(fd) != 0)
        ereport(ERROR, (errcode_for_file_access(),
                        errmsg("could not close file \"%s\": %m", temporary_path)));
    pfree(file);
    durable_rename(temporary_path, state_path, ERROR);
}

} // namespace convoy::pg
