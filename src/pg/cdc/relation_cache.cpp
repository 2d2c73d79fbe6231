#include "pg/cdc/relation_cache.hpp"

extern "C" {
#include "access/detoast.h"
#include "catalog/partition.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
}

namespace convoy::pg {

namespace {

HTAB *cache = nullptr;
MemoryContext cache_context = nullptr;
const ConfiguredTables *cache_tables = nullptr;
bool callback_registered = false;

// Relcache invalidation: mark the relation (or everything) stale. This can run
// in the middle of encoding a row (any catalog lookup may accept invalidation
// messages, e.g. after an ANALYZE elsewhere), so it frees nothing: the next
// lookup rebuilds the entry, once no row is being encoded with it.
void invalidate_relation(Datum arg, Oid relid) {
    if (cache == nullptr)
        return;
    if (OidIsValid(relid)) {
        RelationInfo *info = static_cast<RelationInfo *>(hash_search(cache, &relid, HASH_FIND, nullptr));
        if (info)
            info->valid = false;
        return;
    }
    HASH_SEQ_STATUS scan;
    hash_seq_init(&scan, cache);
    while (RelationInfo *info = static_cast<RelationInfo *>(hash_seq_search(&scan)))
        info->valid = false;
}

// The cache lives in a child of the decoding context. An ERROR after startup
// (pg_logical_slot_get_changes refusing the output type, say) deletes that
// context without calling shutdown: forget the cache with it, so the next
// startup does not delete it a second time.
void forget_cache(void *arg) {
    cache = nullptr;
    cache_context = nullptr;
    cache_tables = nullptr;
}

int index_of_name(const char *relname, Oid namespace_oid) {
    char *schema = nullptr;
    int found = -1;
    for (int i = 0; i < cache_tables->count && found < 0; i++) {
        if (strcmp(cache_tables->tables[i].table, relname) != 0)
            continue;
        if (schema == nullptr)
            schema = get_namespace_name(namespace_oid);
        if (schema && strcmp(cache_tables->tables[i].schema, schema) == 0)
            found = i;
    }
    if (schema)
        pfree(schema);
    return found;
}

// A configured table, or a partition whose topmost partitioned table is one:
// rows are decoded per partition but belong to the table the operator named.
int configured_index(Relation relation) {
    int found = index_of_name(RelationGetRelationName(relation), RelationGetNamespace(relation));
    if (found >= 0 || !relation->rd_rel->relispartition)
        return found;
    List *ancestors = get_partition_ancestors(RelationGetRelid(relation));
    if (ancestors != NIL) {
        Oid root = llast_oid(ancestors);
        char *name = get_rel_name(root);
        if (name)
            found = index_of_name(name, get_rel_namespace(root));
    }
    list_free(ancestors);
    return found;
}

// A column's name and punctuation weigh as much in every row; so do values of
// fixed length, which are counted even when null.
constexpr Size column_overhead_bytes = 8;

void measure_columns(RelationInfo *info, TupleDesc desc) {
    info->base_bytes = 0;
    info->variable_count = 0;
    info->variable_columns = static_cast<int *>(palloc(sizeof(int) * Max(desc->natts, 1)));
    for (int i = 0; i < desc->natts; i++) {
        Form_pg_attribute att = TupleDescAttr(desc, i);
        if (att->attisdropped)
            continue;
        info->base_bytes += strlen(NameStr(att->attname)) + column_overhead_bytes;
        if (att->attlen > 0)
            info->base_bytes += att->attlen;
        else
            info->variable_columns[info->variable_count++] = i;
    }
}

} // namespace

void relation_cache_open(const ConfiguredTables *tables, MemoryContext context) {
    relation_cache_close();
    cache_context = AllocSetContextCreate(context, "convoy_backup relation cache",
                                          ALLOCSET_SMALL_SIZES);
    MemoryContextCallback *on_delete =
        static_cast<MemoryContextCallback *>(MemoryContextAllocZero(cache_context, sizeof(MemoryContextCallback)));
    on_delete->func = forget_cache;
    MemoryContextRegisterResetCallback(cache_context, on_delete);
    HASHCTL ctl;
    memset(&ctl, 0, sizeof(ctl));
    ctl.keysize = sizeof(Oid);
    ctl.entrysize = sizeof(RelationInfo);
    ctl.hcxt = cache_context;
    cache = hash_create("convoy_backup relations", 64, &ctl, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
    cache_tables = tables;
    if (!callback_registered) {
        CacheRegisterRelcacheCallback(invalidate_relation, (Datum) 0);
        callback_registered = true;
    }
}

void relation_cache_reset() { invalidate_relation((Datum) 0, InvalidOid); }

void relation_cache_close() {
    if (cache_context)
        MemoryContextDelete(cache_context); // forget_cache() clears the pointers
}

RelationInfo *relation_cache_lookup(Relation relation) {
    Oid relid = RelationGetRelid(relation);
    bool found;
    RelationInfo *info = static_cast<RelationInfo *>(hash_search(cache, &relid, HASH_ENTER, &found));
    if (found && !info->valid && info->encoder) {
        free_row_encoder(info->encoder);
        pfree(info->values);
        pfree(info->nulls);
        pfree(info->variable_columns);
        info->encoder = nullptr;
    }
    if (!found || !info->valid) {
        info->table = -1;
        info->encoder = nullptr;
        info->values = nullptr;
        info->nulls = nullptr;
        info->variable_columns = nullptr;
        info->valid = true;
        info->table = configured_index(relation);
    }
    if (info->table >= 0 && info->encoder == nullptr) {
        MemoryContext old = MemoryContextSwitchTo(cache_context);
        TupleDesc desc = RelationGetDescr(relation);
        // The cdc worker's list names every table's time column (cdc_start()).
        const char *time_column = cache_tables->tables[info->table].time_column;
        info->encoder = create_row_encoder(desc, time_column[0] ? time_column : nullptr);
        info->values = static_cast<Datum *>(palloc(sizeof(Datum) * Max(desc->natts, 1)));
        info->nulls = static_cast<bool *>(palloc(sizeof(bool) * Max(desc->natts, 1)));
        measure_columns(info, desc);
        MemoryContextSwitchTo(old);
    }
    return info;
}

Size row_source_bytes(const RelationInfo *info, TupleDesc desc, const Datum *values,
                      const bool *nulls) {
    Size bytes = info->base_bytes;
    for (int i = 0; i < info->variable_count; i++) {
        int column = info->variable_columns[i];
        if (nulls[column])
            continue;
        if (TupleDescAttr(desc, column)->attlen == -1)
            bytes += toast_raw_datum_size(values[column]); // reads the header only
        else
            bytes += strlen(DatumGetCString(values[column])) + 1;
    }
    return bytes;
}

} // namespace convoy::pg
