// Per-relation facts the output plugin needs for every change: whether the
// relation is a configured table (and which), and its row encoder. Looked up
// once per relation, dropped on relcache invalidation (ALTER TABLE, RENAME).
#pragma once

extern "C" {
#include "postgres.h"
#include "utils/rel.h"
}

#include "pg/encode/row_encoder.hpp"
#include "pg/common/settings.hpp"

namespace convoy::pg {

struct RelationInfo {
    Oid relid;      // hash key
    int table;      // index in the configured tables, or -1
    RowEncoder *encoder; // created on first use, for configured tables only
    // heap_deform_tuple()'s output, sized for the relation once, not per row.
    Datum *values;
    bool *nulls;
    // For row_source_bytes(): what every row weighs whatever its values, and
    // the columns of variable length (attnum - 1), counted per row.
    Size base_bytes;
    int *variable_columns;
    int variable_count;
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

// The size of a deformed row of a configured relation as stored, with every
// value decompressed, plus its column names: what a large transaction is split
// by. It depends only on the row and the table's columns, never on settings
// that change the row's JSON text (extra_float_digits, IntervalStyle ...), so a
// transaction decoded again after a crash or a configuration change is split at
// the same rows.
Size row_source_bytes(const RelationInfo *info, TupleDesc desc, const Datum *values,
                      const bool *nulls);

} // namespace convoy::pg
