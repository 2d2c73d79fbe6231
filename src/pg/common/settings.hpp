// Every convoy_backup.* setting: the variables the rest of the PostgreSQL layer
// reads, and the parsed form of convoy_backup.tables.
#pragma once

extern "C" {
#include "postgres.h"
}

namespace convoy::pg {

enum class BackupMode { off, cdc, exporting };
enum class StorageKind { on_prem, s3, azure_blob };

// The most tables convoy_backup.tables may name (one shared-memory slot each).
// (TableBuffers::max_tables must match; checked where both are visible.)
constexpr int max_backup_tables = 64;

// One entry of convoy_backup.tables. Plain data: it lives in a GUC "extra"
// (guc_allocate() of common/pg_compat.hpp), which PostgreSQL frees.
struct ConfiguredTable {
    char schema[NAMEDATALEN];
    char table[NAMEDATALEN];
    // schema.table quoted as SQL would need it: how the table is named in object
    // keys, status rows and messages.
    char display[2 * (2 * NAMEDATALEN + 2) + 2];
    // The table's time column (export mode's window column, and the one whose
    // range manifests record); empty: convoy_backup.time_column.
    char time_column[NAMEDATALEN];
};

struct ConfiguredTables {
    int count;
    ConfiguredTable tables[max_backup_tables];
};

extern int setting_mode;           // a BackupMode
extern char *setting_database;
extern int setting_interval_secs;
extern char *setting_slot_name;
extern bool setting_failover;      // the slot is a failover slot (PostgreSQL 17+)
extern int setting_buffer_size_kb;
extern int setting_storage;        // a StorageKind
extern char *setting_on_prem_path;
extern int setting_on_prem_file_mode; // 0600 or 0640
extern char *setting_s3_bucket;
extern char *setting_s3_region;
extern char *setting_s3_endpoint;
extern bool setting_s3_force_path_style;
extern char *setting_s3_access_key;
extern char *setting_s3_secret_key;
extern char *setting_s3_session_token;
extern char *setting_s3_prefix;
extern int setting_s3_part_size_kb;
extern char *setting_azure_account_name;
extern char *setting_azure_account_key;
extern char *setting_azure_sas_token;
extern char *setting_azure_container;
extern char *setting_azure_endpoint;
extern char *setting_azure_prefix;
extern int setting_azure_block_size_kb;
extern char *setting_storage_ca_file;
extern int setting_storage_timeout_secs;
extern char *setting_time_column;
extern int setting_export_delay_secs;
extern int setting_max_manual_window_secs;
extern bool setting_skip_deleted_rows;
extern int setting_job_timeout_secs;
extern int setting_job_max_attempts;
extern int setting_job_retention_secs;
extern int setting_read_memory_kb;

// Defines the settings. In the postmaster (shared_preload_libraries) the
// restart-only ones exist with their final values; elsewhere all are defined
// so that the output plugin and SQL functions read the same configuration.
void define_settings();

// The parsed convoy_backup.tables currently in force in this process.
const ConfiguredTables &configured_tables();

// Bumped whenever convoy_backup.tables or convoy_backup.time_column takes a
// new value in this process.
uint64 configured_tables_generation();

// Parses a table list as convoy_backup.tables would; on failure fills the GUC
// check error strings and returns false. The result is GUC memory: free it
// with guc_release() (common/pg_compat.hpp) unless a check hook hands it over.
bool parse_configured_tables(const char *text, ConfiguredTables **result);

// convoy_backup.mode, .tables and .interval decide what is backed up: a value
// the configuration gives them that PostgreSQL refuses must not leave the
// workers running with another one (at server start that would be the
// default). Such a value is recorded here, in the process that read it (the
// postmaster's record is inherited by the workers it forks), and cleared once
// the configuration gives an accepted value: after a reload for .tables and
// .interval, only after a restart for .mode. A value refused on reload while
// an accepted one is in force is left to PostgreSQL, which keeps the old value
// and logs the refusal.
struct RejectedSetting {
    const char *name;  // e.g. "convoy_backup.tables"
    const char *value; // the refused text (shortened if long)
    bool restart_only; // cleared only by a restart
};

// The first setting whose configured value was refused, or nullptr.
const RejectedSetting *rejected_setting();

BackupMode backup_mode();
StorageKind storage_kind();

} // namespace convoy::pg
