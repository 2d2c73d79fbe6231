// Definitions, check hooks and assign hooks of the convoy_backup.* settings.
// Check hooks validate and parse; assign hooks only store (they may not fail).
// Core headers come first: they refuse to compile once postgres.h is in.
#include "core/config/table_list.hpp"
#include "core/storage/azure/azure_blob_storage.hpp"
#include "core/storage/http/object_names.hpp"
#include "core/storage/http/url.hpp"
#include "core/storage/s3/s3_storage.hpp"
#include "pg/common/boundary.hpp"
#include "pg/common/pg_compat.hpp"

#include <climits>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "pg/common/pg_compat.hpp"
#include "pg/common/settings.hpp"

extern "C" {
#include "utils/guc.h"
}

namespace convoy::pg {

int setting_mode = static_cast<int>(BackupMode::cdc);
char *setting_database = nullptr;
int setting_interval_secs = 3600;
char *setting_slot_name = nullptr;
bool setting_failover = server_has_failover_slots;
int setting_buffer_size_kb = 64 * 1024;
int setting_storage = static_cast<int>(StorageKind::on_prem);
char *setting_on_prem_path = nullptr;
int setting_on_prem_file_mode = 0600;
char *setting_s3_bucket = nullptr;
char *setting_s3_region = nullptr;
char *setting_s3_endpoint = nullptr;
bool setting_s3_force_path_style = false;
char *setting_s3_access_key = nullptr;
char *setting_s3_secret_key = nullptr;
char *setting_s3_session_token = nullptr;
char *setting_s3_prefix = nullptr;
int setting_s3_part_size_kb = 8 * 1024;
char *setting_azure_account_name = nullptr;
char *setting_azure_account_key = nullptr;
char *setting_azure_sas_token = nullptr;
char *setting_azure_container = nullptr;
char *setting_azure_endpoint = nullptr;
char *setting_azure_prefix = nullptr;
int setting_azure_block_size_kb = 8 * 1024;
char *setting_storage_ca_file = nullptr;
int setting_storage_timeout_secs = 120;
char *setting_time_column = nullptr;
int setting_export_delay_secs = 300;
int setting_max_manual_window_secs = 7 * 24 * 3600;
bool setting_skip_deleted_rows = true;
int setting_job_timeout_secs = 300;
int setting_job_max_attempts = 30;
int setting_job_retention_secs = 30 * 24 * 3600;
int setting_read_memory_kb = 64 * 1024;

namespace {

char *setting_tables = nullptr;
const ConfiguredTables *tables_in_force = nullptr;
uint64 tables_generation = 0;
const ConfiguredTables no_tables = {};

const struct config_enum_entry mode_options[] = {
    {"off", static_cast<int>(BackupMode::off), false},
    {"cdc", static_cast<int>(BackupMode::cdc), false},
    {"export", static_cast<int>(BackupMode::exporting), false},
    {nullptr, 0, false},
};

const struct config_enum_entry storage_options[] = {
    {"on_prem", static_cast<int>(StorageKind::on_prem), false},
    {"s3", static_cast<int>(StorageKind::s3), false},
    {"azure_blob", static_cast<int>(StorageKind::azure_blob), false},
    {nullptr, 0, false},
};

// --- Refused values of the settings that decide what is backed up -----------

struct Watched {
    RejectedSetting setting;
    bool rejected;
    char value[256];
};

enum WatchedIndex { watched_mode, watched_tables, watched_interval, watched_count };

Watched watched[watched_count] = {
    {{"convoy_backup.mode", nullptr, true}, false, {0}},
    {{"convoy_backup.tables", nullptr, false}, false, {0}},
    {{"convoy_backup.interval", nullptr, false}, false, {0}},
};

// While a watched setting is being defined: whether the value the configuration
// gave it (held by its placeholder until then) was accepted.
int defining = -1;
bool defined_value_accepted = false;

// Called by the check hooks of the watched settings once PostgreSQL parsed a
// value and the hook accepted it.
void note_accepted(int index, GucSource source) {
    if (defining == index) {
        // The boot value is checked first; only the configured one counts.
        if (source != PGC_S_DEFAULT)
            defined_value_accepted = true;
        return;
    }
    // A restart-only setting's new value is checked on reload but not applied.
    if (!watched[index].setting.restart_only)
        watched[index].rejected = false;
}

// Defines a watched setting through define(), then records the configured
// value as refused if the configuration gave one and PostgreSQL did not take it
// (it logged why and kept the default).
template <class Define>
void define_watched(int index, Define define) {
    Watched &w = watched[index];
    const char *configured = GetConfigOption(w.setting.name, true, false);
    char value[sizeof(w.value)];
    bool given = configured != nullptr;
    if (given) {
        strlcpy(value, configured, sizeof(value));
        if (strlen(configured) >= sizeof(value))
            strcpy(value + sizeof(value) - 4, "...");
    }
    defining = index;
    defined_value_accepted = false;
    define();
    defining = -1;
    if (given && !defined_value_accepted) {
        memcpy(w.value, value, sizeof(value));
        w.setting.value = w.value;
        w.rejected = true;
    }
}

bool check_mode(int *newval, void **extra, GucSource source) {
    note_accepted(watched_mode, source);
    return true;
}

bool check_interval(int *newval, void **extra, GucSource source) {
    note_accepted(watched_interval, source);
    return true;
}

bool check_tables(char **newval, void **extra, GucSource source) {
    ConfiguredTables *parsed = nullptr;
    if (!parse_configured_tables(*newval, &parsed))
        return false;
    *extra = parsed;
    note_accepted(watched_tables, source);
    return true;
}

void assign_tables(const char *newval, void *extra) {
    tables_in_force = static_cast<const ConfiguredTables *>(extra);
    tables_generation++;
}

// Slot names follow PostgreSQL's own rule (ReplicationSlotValidateName), checked
// here so that a bad name is refused when the configuration is read.
bool check_slot_name(char **newval, void **extra, GucSource source) {
    const char *name = *newval;
    size_t len = name ? strlen(name) : 0;
    if (len == 0) {
        GUC_check_errmsg("replication slot name \"%s\" is too short", name ? name : "");
        return false;
    }
    if (len >= NAMEDATALEN) {
        GUC_check_errmsg("replication slot name \"%s\" is too long", name);
        return false;
    }
    for (const char *c = name; *c; c++) {
        if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '_')) {
            GUC_check_errmsg("replication slot name \"%s\" contains invalid character", name);
            GUC_check_errhint("Replication slot names may only contain lower case letters, "
                              "numbers, and the underscore character.");
            return false;
        }
    }
    return true;
}

// A server without failover slots cannot honour "on": refused, as PostgreSQL
// refuses settings its platform cannot honour, so that ALTER SYSTEM fails at
// once and the log at server start says why (the value in force stays off).
bool check_failover(bool *newval, void **extra, GucSource source) {
    if (!*newval || server_has_failover_slots)
        return true;
    GUC_check_errcode(ERRCODE_FEATURE_NOT_SUPPORTED);
    GUC_check_errmsg("convoy_backup.failover requires PostgreSQL 17 or later");
    GUC_check_errdetail("This server runs PostgreSQL %s, which cannot synchronize replication "
                        "slots to a standby.",
                        server_major_version);
    GUC_check_errhint("Set convoy_backup.failover = off. After a failover, the rows committed "
                      "since the former primary last wrote to storage are not backed up; see "
                      "\"Failover\" in docs/operations.md.");
    return false;
}

bool check_database(char **newval, void **extra, GucSource source) {
    if (*newval == nullptr || (*newval)[0] == '\0') {
        GUC_check_errmsg("convoy_backup.database must not be empty");
        return false;
    }
    return true;
}

bool check_on_prem_path(char **newval, void **extra, GucSource source) {
    const char *path = *newval;
    if (path == nullptr || path[0] == '\0')
        return true; // unset: the worker reports it when it needs the path
    if (!is_absolute_path(path)) {
        GUC_check_errmsg("convoy_backup.on_prem_path must be an absolute path");
        GUC_check_errdetail("The value \"%s\" is relative.", path);
        return false;
    }
    return true;
}

// An octal mode, as unix_socket_permissions shows it; only 0600 and 0640 are
// accepted: backup objects hold table data, so at most the group may read them.
bool check_on_prem_file_mode(char **newval, void **extra, GucSource source) {
    const char *text = *newval ? *newval : "";
    int mode;
    if (strcmp(text, "0600") == 0 || strcmp(text, "600") == 0)
        mode = 0600;
    else if (strcmp(text, "0640") == 0 || strcmp(text, "640") == 0)
        mode = 0640;
    else {
        GUC_check_errmsg("convoy_backup.on_prem_file_mode must be '0600' or '0640'");
        GUC_check_errdetail("The value \"%s\" is not one of them.", text);
        GUC_check_errhint("Backup objects may be readable by the server's OS user (0600), or "
                          "also by its group (0640), but never by others.");
        return false;
    }
    int *parsed = static_cast<int *>(guc_allocate(sizeof(int)));
    if (parsed == nullptr) {
        GUC_check_errcode(ERRCODE_OUT_OF_MEMORY);
        GUC_check_errmsg("out of memory");
        return false;
    }
    *parsed = mode;
    *extra = parsed;
    return true;
}

void assign_on_prem_file_mode(const char *, void *extra) {
    setting_on_prem_file_mode = *static_cast<int *>(extra);
}

char *on_prem_file_mode_text = nullptr;

// The default time column is part of what the cdc worker follows of the table
// list (it applies a change at a WAL position, see cdc/worker.cpp).
void assign_time_column(const char *newval, void *extra) { tables_generation++; }

bool check_time_column(char **newval, void **extra, GucSource source) {
    if (*newval == nullptr || (*newval)[0] == '\0') {
        GUC_check_errmsg("convoy_backup.time_column must not be empty");
        return false;
    }
    if (strlen(*newval) >= NAMEDATALEN) {
        GUC_check_errmsg("column name \"%s\" is too long", *newval);
        return false;
    }
    return true;
}

// Secrets: only superusers set them (reload context: postgresql.conf or ALTER
// SYSTEM), nobody else sees them (GUC_SUPERUSER_ONLY), pg_settings never lists
// them (GUC_NO_SHOW_ALL), and SHOW only says whether one is set. The setting's
// own value is always empty: the check hook moves the secret into the "extra"
// the assign hook installs. Otherwise the postmaster would log "parameter ...
// changed to <secret>" whenever a reload changes it.
bool check_secret(char **newval, void **extra, GucSource source) {
    char *real = guc_string_copy(*newval ? *newval : "");
    char *empty = guc_string_copy("");
    if (real == nullptr || empty == nullptr) {
        guc_release(real);
        guc_release(empty);
        GUC_check_errcode(ERRCODE_OUT_OF_MEMORY);
        GUC_check_errmsg("out of memory");
        return false;
    }
    guc_release(*newval);
    *newval = empty;
    *extra = real;
    return true;
}

char *secret_s3_secret_key = nullptr;
char *secret_s3_session_token = nullptr;
char *secret_azure_account_key = nullptr;
char *secret_azure_sas_token = nullptr;

void assign_s3_secret_key(const char *, void *extra) { setting_s3_secret_key = static_cast<char *>(extra); }
void assign_s3_session_token(const char *, void *extra) { setting_s3_session_token = static_cast<char *>(extra); }
void assign_azure_account_key(const char *, void *extra) { setting_azure_account_key = static_cast<char *>(extra); }
void assign_azure_sas_token(const char *, void *extra) { setting_azure_sas_token = static_cast<char *>(extra); }

const char *show_secret(const char *value) { return value && value[0] ? "(set)" : ""; }
const char *show_s3_secret_key() { return show_secret(setting_s3_secret_key); }
const char *show_s3_session_token() { return show_secret(setting_s3_session_token); }
const char *show_azure_account_key() { return show_secret(setting_azure_account_key); }
const char *show_azure_sas_token() { return show_secret(setting_azure_sas_token); }
constexpr int secret_flags = GUC_SUPERUSER_ONLY | GUC_NO_SHOW_ALL;

void define_secret(const char *name, const char *description, char **visible, GucStringAssignHook assign,
                   GucShowHook show) {
    DefineCustomStringVariable(name, description, nullptr, visible, "", PGC_SIGHUP, secret_flags,
                               check_secret, assign, show);
}

void define_string(const char *name, const char *description, char **variable,
                   GucStringCheckHook check = nullptr) {
    DefineCustomStringVariable(name, description, nullptr, variable, "", PGC_SIGHUP, 0, check,
                               nullptr, nullptr);
}

// Storage names are checked when they are set, with the stores' own rules,
// rather than at the first write: an empty value (unset) is accepted here and
// reported when the store is used.
template <void (*validate)(const std::string &)>
bool check_storage_name(char **newval, void **extra, GucSource source) {
    const char *value = *newval ? *newval : "";
    if (value[0] == '\0')
        return true;
    CoreFailure failure = run_core([&] { validate(value); });
    // PostgreSQL's own message names the setting and the value; the store's
    // rule goes in the detail.
    if (failure.failed)
        GUC_check_errdetail("%s", failure.detail[0] ? failure.detail : failure.message);
    return !failure.failed;
}

void validate_s3_endpoint(const std::string &v) { http::parse_endpoint(v, "convoy_backup.s3_endpoint"); }
void validate_azure_endpoint(const std::string &v) { http::parse_endpoint(v, "convoy_backup.azure_endpoint"); }
void validate_s3_prefix(const std::string &v) { http::normalize_prefix(v, "convoy_backup.s3_prefix"); }
void validate_azure_prefix(const std::string &v) { http::normalize_prefix(v, "convoy_backup.azure_prefix"); }

void define_storage_settings() {
    define_string("convoy_backup.s3_bucket", "S3 bucket that receives backup objects.",
                  &setting_s3_bucket,
                  check_storage_name<check_s3_bucket_name>);
    define_string("convoy_backup.s3_region", "Region of the S3 bucket (empty: us-east-1).",
                  &setting_s3_region);
    define_string("convoy_backup.s3_endpoint",
                  "URL of an S3-compatible store (empty: AWS's endpoint for the region).",
                  &setting_s3_endpoint,
                  check_storage_name<validate_s3_endpoint>);
    DefineCustomBoolVariable("convoy_backup.s3_force_path_style",
                             "Addresses objects as endpoint/bucket/key instead of bucket.endpoint/key.",
                             nullptr, &setting_s3_force_path_style, false, PGC_SIGHUP, 0, nullptr,
                             nullptr, nullptr);
    define_string("convoy_backup.s3_access_key", "Access key ID for S3.", &setting_s3_access_key);
    define_secret("convoy_backup.s3_secret_key", "Secret access key for S3.",
                  &secret_s3_secret_key, assign_s3_secret_key, show_s3_secret_key);
    define_secret("convoy_backup.s3_session_token", "Session token for temporary S3 credentials.",
                  &secret_s3_session_token, assign_s3_session_token, show_s3_session_token);
    define_string("convoy_backup.s3_prefix", "Key prefix for objects in the S3 bucket.",
                  &setting_s3_prefix,
                  check_storage_name<validate_s3_prefix>);
    DefineCustomIntVariable("convoy_backup.s3_part_size",
                            "Size of each part of a multipart upload; also the most an upload buffers.",
                            nullptr, &setting_s3_part_size_kb, 8 * 1024, 5 * 1024, 1024 * 1024,
                            PGC_SIGHUP, GUC_UNIT_KB, nullptr, nullptr, nullptr);
    define_string("convoy_backup.azure_account_name", "Azure storage account name.",
                  &setting_azure_account_name,
                  check_storage_name<check_azure_account_name>);
    define_secret("convoy_backup.azure_account_key", "Azure storage account key (base64).",
                  &secret_azure_account_key, assign_azure_account_key, show_azure_account_key);
    define_secret("convoy_backup.azure_sas_token",
                  "Azure shared access signature, used instead of the account key.",
                  &secret_azure_sas_token, assign_azure_sas_token, show_azure_sas_token);
    define_string("convoy_backup.azure_container", "Azure Blob container that receives backup objects.",
                  &setting_azure_container,
                  check_storage_name<check_azure_container_name>);
    define_string("convoy_backup.azure_endpoint",
                  "Blob service URL (empty: https://<account>.blob.core.windows.net).",
                  &setting_azure_endpoint,
                  check_storage_name<validate_azure_endpoint>);
    define_string("convoy_backup.azure_prefix", "Name prefix for blobs in the container.",
                  &setting_azure_prefix,
                  check_storage_name<validate_azure_prefix>);
    DefineCustomIntVariable("convoy_backup.azure_block_size",
                            "Size of each block of a block blob upload; also the most an upload buffers.",
                            nullptr, &setting_azure_block_size_kb, 8 * 1024, 64, 4000 * 1024,
                            PGC_SIGHUP, GUC_UNIT_KB, nullptr, nullptr, nullptr);
    define_string("convoy_backup.storage_ca_file",
                  "PEM file of certificate authorities trusted for S3 and Azure (empty: the system's).",
                  &setting_storage_ca_file);
    DefineCustomIntVariable("convoy_backup.storage_timeout",
                            "Time limit for one request to S3 or Azure, transfer included.", nullptr,
                            &setting_storage_timeout_secs, 120, 1, 3600, PGC_SIGHUP, GUC_UNIT_S,
                            nullptr, nullptr, nullptr);
}

} // namespace

bool parse_configured_tables(const char *text, ConfiguredTables **result) {
    ConfiguredTables *parsed = static_cast<ConfiguredTables *>(guc_allocate(sizeof(ConfiguredTables)));
    if (parsed == nullptr) {
        GUC_check_errcode(ERRCODE_OUT_OF_MEMORY);
        GUC_check_errmsg("out of memory");
        return false;
    }
    memset(parsed, 0, sizeof(ConfiguredTables));
    // The parser is core C++: run it behind the boundary, copying into plain data.
    CoreFailure failure = run_core([&] {
        std::vector<QualifiedName> names = parse_table_list(text ? text : "", max_backup_tables);
        parsed->count = static_cast<int>(names.size());
        for (size_t i = 0; i < names.size(); i++) {
            ConfiguredTable &t = parsed->tables[i];
            strlcpy(t.schema, names[i].schema.c_str(), sizeof(t.schema));
            strlcpy(t.table, names[i].table.c_str(), sizeof(t.table));
            strlcpy(t.display, names[i].display().c_str(), sizeof(t.display));
            strlcpy(t.time_column, names[i].time_column.c_str(), sizeof(t.time_column));
        }
    });
    if (failure.failed) {
        guc_release(parsed);
        GUC_check_errmsg("%s", failure.message);
        if (failure.detail[0])
            GUC_check_errdetail("%s", failure.detail);
        return false;
    }
    *result = parsed;
    return true;
}

void define_settings() {
    define_watched(watched_mode, [] {
        DefineCustomEnumVariable(
            "convoy_backup.mode", "Selects how rows are backed up: cdc, export or off.",
            "cdc decodes WAL through a logical replication slot; export copies time windows "
            "from snapshots; off runs no worker.",
            &setting_mode, static_cast<int>(BackupMode::cdc), mode_options, PGC_POSTMASTER, 0,
            check_mode, nullptr, nullptr);
    });

    DefineCustomStringVariable(
        "convoy_backup.database", "Database the convoy_backup workers connect to.",
        "The replication slot belongs to this database; the backed-up tables live in it.",
        &setting_database, "postgres", PGC_POSTMASTER, 0, check_database, nullptr, nullptr);

    define_watched(watched_tables, [] {
        DefineCustomStringVariable(
            "convoy_backup.tables", "Comma-separated list of schema-qualified tables to back up.",
            "Empty: no table is backed up.", &setting_tables, "", PGC_SIGHUP, 0, check_tables,
            assign_tables, nullptr);
    });

    define_watched(watched_interval, [] {
        DefineCustomIntVariable(
            "convoy_backup.interval",
            "Time between flushes of buffered rows (cdc) and length of each window (export).",
            nullptr, &setting_interval_secs, 3600, 1, 7 * 24 * 3600, PGC_SIGHUP, GUC_UNIT_S,
            check_interval, nullptr, nullptr);
    });

    DefineCustomStringVariable(
        "convoy_backup.slot_name", "Name of the logical replication slot used in cdc mode.",
        nullptr, &setting_slot_name, "convoy_backup", PGC_POSTMASTER, 0, check_slot_name,
        nullptr, nullptr);

    DefineCustomBoolVariable(
        "convoy_backup.failover",
        "Makes the replication slot a failover slot, which standbys synchronize.",
        "With sync_replication_slots on a standby, the backup goes on from the synchronized "
        "slot after that standby is promoted. PostgreSQL 17 and later; off elsewhere.",
        &setting_failover, server_has_failover_slots, PGC_SIGHUP, 0, check_failover, nullptr,
        nullptr);

    DefineCustomIntVariable(
        "convoy_backup.buffer_size", "Shared memory reserved for buffered rows of all tables.",
        "When the buffers fill up, they are flushed early; decoding waits until they are "
        "written, so no row is dropped.",
        &setting_buffer_size_kb, 64 * 1024, 1024, 16 * 1024 * 1024, PGC_POSTMASTER, GUC_UNIT_KB,
        nullptr, nullptr, nullptr);

    DefineCustomEnumVariable(
        "convoy_backup.storage", "Where backup objects are written.", nullptr, &setting_storage,
        static_cast<int>(StorageKind::on_prem), storage_options, PGC_SIGHUP, 0, nullptr, nullptr,
        nullptr);

    DefineCustomStringVariable(
        "convoy_backup.on_prem_path",
        "Directory that receives backup objects when convoy_backup.storage is on_prem.",
        "An absolute path to an existing directory writable by the server.",
        &setting_on_prem_path, "", PGC_SIGHUP, 0, check_on_prem_path, nullptr, nullptr);

    DefineCustomStringVariable(
        "convoy_backup.on_prem_file_mode",
        "Permissions of backup objects written to convoy_backup.on_prem_path: 0600 or 0640.",
        "Directories the extension creates get 0700 or 0750 accordingly.",
        &on_prem_file_mode_text, "0600", PGC_SIGHUP, 0, check_on_prem_file_mode,
        assign_on_prem_file_mode, nullptr);

    define_storage_settings();

    DefineCustomStringVariable(
        "convoy_backup.time_column",
        "Column that export mode selects a table's window by, and whose range manifests record.",
        "A table in convoy_backup.tables may name its own with schema.table:column.",
        &setting_time_column, "created_at", PGC_SIGHUP, 0, check_time_column, assign_time_column,
        nullptr);

    DefineCustomIntVariable(
        "convoy_backup.export_delay", "Grace period after a window ends before it is exported.",
        "Covers clients whose clocks run behind the server's; the window also waits for every "
        "transaction that began before its end.",
        &setting_export_delay_secs, 300, 0, 24 * 3600, PGC_SIGHUP, GUC_UNIT_S, nullptr, nullptr,
        nullptr);

    DefineCustomIntVariable(
        "convoy_backup.max_manual_window", "Longest window a manual backup may cover.", nullptr,
        &setting_max_manual_window_secs, 7 * 24 * 3600, 1, 366 * 24 * 3600, PGC_SUSET, GUC_UNIT_S,
        nullptr, nullptr, nullptr);

    DefineCustomBoolVariable(
        "convoy_backup.skip_deleted_rows",
        "Leaves out exported rows whose deleted_at is set, in tables with that column.", nullptr,
        &setting_skip_deleted_rows, true, PGC_SIGHUP, 0, nullptr, nullptr, nullptr);

    DefineCustomIntVariable(
        "convoy_backup.job_timeout",
        "Time after which a running export job whose worker stopped heartbeating is claimed again.",
        nullptr, &setting_job_timeout_secs, 300, 5, 24 * 3600, PGC_SIGHUP, GUC_UNIT_S, nullptr,
        nullptr, nullptr);

    DefineCustomIntVariable(
        "convoy_backup.job_max_attempts", "Attempts after which a failing export job stays failed.",
        "Retries back off from 10 seconds to an hour: 30 attempts cover about a day.",
        &setting_job_max_attempts, 30, 1, 1000, PGC_SIGHUP, 0, nullptr, nullptr, nullptr);

    DefineCustomIntVariable(
        "convoy_backup.job_retention", "How long completed export jobs are kept in convoy_backup.jobs.",
        nullptr, &setting_job_retention_secs, 30 * 24 * 3600, 3600, INT_MAX, PGC_SIGHUP, GUC_UNIT_S,
        nullptr, nullptr, nullptr);

    DefineCustomIntVariable(
        "convoy_backup.read_memory",
        "Memory that convoy_backup_verify() and convoy_backup_restore() may use to read a backup.",
        "Lines read and not yet compared or inserted are kept in memory up to half of it, then "
        "in temporary files; lines longer than an eighth of it are refused.",
        &setting_read_memory_kb, 64 * 1024, 1024, MAX_KILOBYTES, PGC_USERSET, GUC_UNIT_KB,
        nullptr, nullptr, nullptr);

    MarkGUCPrefixReserved("convoy_backup");
}

const ConfiguredTables &configured_tables() {
    return tables_in_force ? *tables_in_force : no_tables;
}

uint64 configured_tables_generation() { return tables_generation; }

const RejectedSetting *rejected_setting() {
    for (const Watched &w : watched)
        if (w.rejected)
            return &w.setting;
    return nullptr;
}

BackupMode backup_mode() { return static_cast<BackupMode>(setting_mode); }

StorageKind storage_kind() { return static_cast<StorageKind>(setting_storage); }

} // namespace convoy::pg
