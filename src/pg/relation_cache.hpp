// Per-relation facts the output plugin needs for every change: whether the
// relation is a configured table (and which), and its row encoder. Looked up
// once per relation, dropped on relcache invalidation (ALTER TABLE, RENAME).
#pragma once

extern "C" {
#include "postgres.h"
#include "utils/rel.h"
}

#include "pg/row_encoder.hpp"
#include "pg/settings.hpp"

namespace convoy::pg {

struct RelationInfo {
    Oid relid;      // hash key
    int table;      // index in the configured tables, or -1
    RowEncoder *encoder; // created on first use, for configured tables only
    // heap_deform_tuple()'s output, sized for the relation once, not per row.
    Datum *values;
    bool *nulls;
    bool valid;          // false once invalidated: rebuilt at the next lookup
};

// Creates the cache in context for the given tables (not copied: they must
// outlive the cache). One cache is current per process.
void relation_cache_open(const ConfiguredTables *tables, MemoryContext context);
void relation_cache_close();

// Forgets every relation (the configured tables changed in place).
void relation_cache_reset();

// Looks the relation up (needs catalog access: call it in a decoding callback).
RelationInfo *relation_cache_lookup(Relation relation);

} // namespace convoy::pg
