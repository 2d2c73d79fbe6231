#include "pg/archive/archive_access.hpp"
#include "pg/common/pg_compat.hpp"

extern "C" {
#include "catalog/pg_authid.h"
#include "utils/timestamp.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/rls.h"
}

namespace convoy::pg {

namespace {

constexpr const char *operator_role = "convoy_backup_operator";

bool is_operator(Oid role) {
    Oid operators = get_role_oid(operator_role, true);
    return OidIsValid(operators) && has_privs_of_role(role, operators);
}

} // namespace

void read_range_arguments(FunctionCallInfo fcinfo, const char *function, Oid *relid,
                          TimestampTz *start, TimestampTz *end) {
    if (PG_ARGISNULL(0))
        ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
                        errmsg("%s needs a table", function)));
    if (PG_ARGISNULL(1) || PG_ARGISNULL(2))
        ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
                        errmsg("range start and end must not be null"),
                        errhint("Use '-infinity' or 'infinity' for an open end.")));
    *relid = PG_GETARG_OID(0);
    *start = PG_GETARG_TIMESTAMPTZ(1);
    *end = PG_GETARG_TIMESTAMPTZ(2);
    if (*start >= *end)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("range start must be before its end"),
                        errdetail("The range is [%s, %s).", pstrdup(timestamptz_to_str(*start)),
                                  pstrdup(timestamptz_to_str(*end)))));
}

void require_operator(const char *function) {
    Oid user = GetUserId();
    if (superuser_arg(user) || is_operator(user))
        return;
    ereport(ERROR, (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
                    errmsg("permission denied to call %s", function),
                    errdetail("Only superusers and members of role \"%s\" may read backups.",
                              operator_role)));
}

void require_select(const ArchiveTable *table) {
    AclResult result = pg_class_aclcheck(table->relid, GetUserId(), ACL_SELECT);
    if (result != ACLCHECK_OK)
        ereport(ERROR, (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
                        errmsg("permission denied for table %s", table->display),
                        errdetail("Reading the backup of a table needs the right to read the "
                                  "table itself.")));
    // The backup holds every row, whatever policies hide from the caller.
    if (check_enable_rls(table->relid, InvalidOid, true) == RLS_ENABLED)
        ereport(ERROR, (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
                        errmsg("permission denied for table %s", table->display),
                        errdetail("Row-level security applies to this role on the table, and "
                                  "its backup holds every row."),
                        errhint("Call the function as the table's owner, a superuser or a role "
                                "with BYPASSRLS.")));
}

void require_restore_target(Oid into, const char *function) {
    Oid user = GetUserId();
    if (superuser_arg(user))
        return;
    if (!is_operator(user) || !relation_ownercheck(into, user))
        ereport(ERROR, (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
                        errmsg("permission denied to restore into table %s",
                               quote_qualified_identifier(get_namespace_name(get_rel_namespace(into)),
                                                          get_rel_name(into))),
                        errdetail("Only superusers, and members of role \"%s\" who own the table, "
                                  "may restore rows into it.",
                                  operator_role)));
}

int pin_read_settings() {
    int nest_level = NewGUCNestLevel();
    static const char *const pinned[][2] = {
        {"extra_float_digits", "1"},
        {"IntervalStyle", "postgres"},
        {"DateStyle", "ISO, MDY"},
        {"bytea_output", "hex"},
        // The staged relations look large to the planner: compiling their
        // queries would cost more than it saves.
        {"jit", "off"},
    };
    for (const auto &setting : pinned)
        (void) set_config_option(setting[0], setting[1], PGC_USERSET, PGC_S_SESSION,
                                 GUC_ACTION_SAVE, true, 0, false);
    // The joins and aggregates over the staged lines: within read_memory too
    // (three hash tables at most, each of an eighth of it).
    char work_mem[32];
    snprintf(work_mem, sizeof(work_mem), "%d", Max(setting_read_memory_kb / 8, 64));
    (void) set_config_option("work_mem", work_mem, PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE,
                             true, 0, false);
    (void) set_config_option("hash_mem_multiplier", "1", PGC_USERSET, PGC_S_SESSION,
                             GUC_ACTION_SAVE, true, 0, false);
    return nest_level;
}

void unpin_read_settings(int nest_level) { AtEOXact_GUC(true, nest_level); }

} // namespace convoy::pg
