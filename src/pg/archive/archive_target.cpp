#include "core/batch/object_key.hpp"
#include "core/config/table_list.hpp"
#include "core/json/json_text.hpp"
#include "pg/common/boundary.hpp"

#include "pg/archive/archive_target.hpp"
#include "pg/common/pg_compat.hpp"
#include "pg/common/unix_time.hpp"

extern "C" {
#include "access/htup_details.h"
#include "access/relation.h"
#include "access/table.h"
#include "catalog/dependency.h"
#include "catalog/pg_class.h"
#include "catalog/pg_index.h"
#include "catalog/pg_type.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/relcache.h"
#include "utils/syscache.h"
}

namespace convoy::pg {

namespace {

struct StringInfoAppender {
    StringInfo out;
    void append(const char *data, size_t len) { appendBinaryStringInfo(out, data, int(len)); }
};

// The table's own time column from convoy_backup.tables, else the default.
const char *configured_time_column(const char *schema, const char *name) {
    const ConfiguredTables &tables = configured_tables();
    for (int i = 0; i < tables.count; i++) {
        const ConfiguredTable &t = tables.tables[i];
        if (strcmp(t.schema, schema) == 0 && strcmp(t.table, name) == 0 && t.time_column[0])
            return t.time_column;
    }
    return setting_time_column;
}

} // namespace

int64 unix_micros_saturating(TimestampTz t) {
    if (TIMESTAMP_IS_NOBEGIN(t))
        return PG_INT64_MIN;
    if (TIMESTAMP_IS_NOEND(t) || t > PG_INT64_MAX - postgres_epoch_in_unix_micros)
        return PG_INT64_MAX;
    return to_unix_micros(t);
}

char *json_member_name(const char *column) {
    char *utf8 = pg_server_to_any(column, int(strlen(column)), PG_UTF8);
    StringInfoData name;
    initStringInfo(&name);
    StringInfoAppender out{&name};
    json::append_string_body(out, std::string_view(utf8, strlen(utf8)));
    return name.data;
}

void find_primary_key(Oid relid, ArchiveTable *table) {
    table->key_count = 0;
    table->key_constraint = InvalidOid;
    table->key_deferrable = false;
    Relation rel = relation_open(relid, AccessShareLock);
    Oid index = primary_key_index(rel);
    relation_close(rel, NoLock);
    if (!OidIsValid(index))
        return;
    HeapTuple tuple = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(index));
    if (!HeapTupleIsValid(tuple))
        elog(ERROR, "cache lookup failed for index %u", index);
    Form_pg_index form = reinterpret_cast<Form_pg_index>(GETSTRUCT(tuple));
    for (int i = 0; i < form->indnkeyatts; i++)
        table->key_attnums[table->key_count++] = form->indkey.values[i];
    table->key_deferrable = !form->indimmediate;
    ReleaseSysCache(tuple);
    table->key_constraint = get_index_constraint(index);
}

ArchiveTable *resolve_archive_table(Oid relid, const char *function) {
    char relkind = get_rel_relkind(relid);
    if (relkind == '\0')
        ereport(ERROR, (errcode(ERRCODE_UNDEFINED_TABLE),
                        errmsg("relation with OID %u does not exist", relid)));
    char *name = get_rel_name(relid);
    char *schema = get_namespace_name(get_rel_namespace(relid));
    if (relkind != RELKIND_RELATION && relkind != RELKIND_PARTITIONED_TABLE)
        ereport(ERROR, (errcode(ERRCODE_WRONG_OBJECT_TYPE),
                        errmsg("%s cannot read the backup of relation \"%s\"", function, name),
                        errdetail_relkind_not_supported(relkind),
                        errhint("Only ordinary and partitioned tables are backed up.")));

    ArchiveTable *table = static_cast<ArchiveTable *>(palloc0(sizeof(ArchiveTable)));
    table->relid = relid;
    char component[3 * sizeof(table->display)];
    CoreFailure failure = run_core([&] {
        QualifiedName qualified{schema, name};
        std::string display = qualified.display();
        strlcpy(table->display, display.c_str(), sizeof(table->display));
        strlcpy(component, encode_key_component(display).c_str(), sizeof(component));
    });
    if (failure.failed)
        raise_core_failure(failure, ERROR);
    table->key_component = pstrdup(component);

    strlcpy(table->time_column, configured_time_column(schema, name), sizeof(table->time_column));
    table->time_attnum = get_attnum(relid, table->time_column);
    if (table->time_attnum <= 0)
        ereport(ERROR, (errcode(ERRCODE_UNDEFINED_COLUMN),
                        errmsg("column \"%s\" does not exist in table %s", table->time_column,
                               table->display),
                        errdetail("%s reads the rows whose time column is in the range.", function),
                        errhint("Set convoy_backup.time_column, or name the table's column as "
                                "schema.table:column in convoy_backup.tables.")));
    Oid type = get_atttype(relid, table->time_attnum);
    table->time_type = getBaseType(type);
    if (table->time_type != TIMESTAMPTZOID && table->time_type != TIMESTAMPOID &&
        table->time_type != DATEOID)
        ereport(ERROR, (errcode(ERRCODE_DATATYPE_MISMATCH),
                        errmsg("column \"%s\" of table %s has type %s, not a time", table->time_column,
                               table->display, format_type_be(type)),
                        errdetail("%s reads the rows whose time column is in the range.", function),
                        errhint("Name a column of type timestamp with time zone, timestamp or date "
                                "with convoy_backup.time_column, or as schema.table:column in "
                                "convoy_backup.tables.")));

    find_primary_key(relid, table);
    table->members = static_cast<char **>(palloc(sizeof(char *) * (table->key_count + 1)));
    table->time_member = -1;
    for (int i = 0; i < table->key_count; i++) {
        table->members[i] = json_member_name(get_attname(relid, table->key_attnums[i], false));
        if (table->key_attnums[i] == table->time_attnum)
            table->time_member = i;
    }
    table->member_count = table->key_count;
    if (table->time_member < 0) {
        table->time_member = table->member_count;
        table->members[table->member_count++] = json_member_name(table->time_column);
    }
    return table;
}

} // namespace convoy::pg
