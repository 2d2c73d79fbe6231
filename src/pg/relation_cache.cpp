#include "pg/relation_cache.hpp"

extern "C" {
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

void forget(RelationInfo *info) {
    if (info->encoder)
        free_row_encoder(info->encoder);
    info->encoder = nullptr;
}

// Relcache invalidation: forget the relation (or everything). Runs inside
// transaction processing, so it only frees memory, never looks anything up.
void invalidate_relation(Datum arg, Oid relid) {
    if (cache == nullptr)
        return;
    if (OidIsValid(relid)) {
        RelationInfo *info = static_cast<RelationInfo *>(hash_search(cache, &relid, HASH_FIND, nullptr));
        if (info) {
            forget(info);
            hash_search(cache, &relid, HASH_REMOVE, nullptr);
        }
        return;
    }
    HASH_SEQ_STATUS scan;
    hash_seq_init(&scan, cache);
    while (RelationInfo *info = static_cast<RelationInfo *>(hash_seq_search(&scan))) {
        forget(info);
        hash_search(cache, &info->relid, HASH_REMOVE, nullptr);
    }
}

int configured_index(Relation relation) {
    const char *relname = RelationGetRelationName(relation);
    char *schema = nullptr;
    int found = -1;
    for (int i = 0; i < cache_tables->count && found < 0; i++) {
        if (strcmp(cache_tables->tables[i].table, relname) != 0)
            continue;
        if (schema == nullptr)
            schema = get_namespace_name(RelationGetNamespace(relation));
        if (schema && strcmp(cache_tables->tables[i].schema, schema) == 0)
            found = i;
    }
    if (schema)
        pfree(schema);
    return found;
}

} // namespace

void relation_cache_open(const ConfiguredTables *tables, MemoryContext context) {
    relation_cache_close();
    cache_context = AllocSetContextCreate(context, "convoy_backup relation cache",
                                          ALLOCSET_SMALL_SIZES);
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
        MemoryContextDelete(cache_context);
    cache = nullptr;
    cache_context = nullptr;
    cache_tables = nullptr;
}

RelationInfo *relation_cache_lookup(Relation relation) {
    Oid relid = RelationGetRelid(relation);
    bool found;
    RelationInfo *info = static_cast<RelationInfo *>(hash_search(cache, &relid, HASH_ENTER, &found));
    if (!found) {
        info->table = -1;
        info->encoder = nullptr;
        info->table = configured_index(relation);
    }
    if (info->table >= 0 && info->encoder == nullptr) {
        MemoryContext old = MemoryContextSwitchTo(cache_context);
        info->encoder = create_row_encoder(RelationGetDescr(relation));
        MemoryContextSwitchTo(old);
    }
    return info;
}

} // namespace convoy::pg
