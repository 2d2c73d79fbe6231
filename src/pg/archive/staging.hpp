// Where lines and rows wait to be compared or inserted: a tuplestore, which
// keeps up to a set amount in memory and the rest in a temporary file, made
// visible to SPI queries as an ephemeral named relation (as triggers' transition
// tables are). No catalog entry, no WAL, no buffer of shared memory.
#pragma once

extern "C" {
#include "postgres.h"
#include "access/tupdesc.h"
#include "utils/palloc.h"
#include "utils/queryenvironment.h"
#include "utils/tuplestore.h"
}

namespace convoy::pg {

struct Staging {
    const char *name; // as queries name it
    MemoryContext context;
    TupleDesc desc;
    Tuplestorestate *store;
    EphemeralNamedRelation relation;
    int memory_kb;
    int64 rows;
    uint64 bytes; // of the values put since the last reset (an estimate of the memory)
};

// An empty staging relation with columns desc, kept in memory up to
// memory_kb, in the current memory context (and resource owner, for its
// temporary file).
Staging *create_staging(const char *name, TupleDesc desc, int memory_kb);

void staging_put(Staging *staging, const Datum *values, const bool *nulls);

// Makes the relation visible to the queries of the current SPI connection.
void register_staging(Staging *staging);

// Empties it (a new tuplestore; queries see it at their next execution).
void reset_staging(Staging *staging);

} // namespace convoy::pg
