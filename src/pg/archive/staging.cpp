#include "pg/archive/staging.hpp"

extern "C" {
#include "executor/spi.h"
}

namespace convoy::pg {

Staging *create_staging(const char *name, TupleDesc desc, int memory_kb) {
    Staging *staging = static_cast<Staging *>(palloc0(sizeof(Staging)));
    staging->name = name;
    staging->context = CurrentMemoryContext;
    staging->desc = desc;
    staging->memory_kb = memory_kb;
    staging->store = tuplestore_begin_heap(false, false, memory_kb);
    EphemeralNamedRelation relation =
        static_cast<EphemeralNamedRelation>(palloc0(sizeof(EphemeralNamedRelationData)));
    relation->md.name = pstrdup(name);
    relation->md.reliddesc = InvalidOid;
    relation->md.tupdesc = desc;
    relation->md.enrtype = ENR_NAMED_TUPLESTORE;
    relation->md.enrtuples = 0;
    relation->reldata = staging->store;
    staging->relation = relation;
    return staging;
}

void staging_put(Staging *staging, const Datum *values, const bool *nulls) {
    tuplestore_putvalues(staging->store, staging->desc, const_cast<Datum *>(values),
                         const_cast<bool *>(nulls));
    staging->rows++;
    staging->relation->md.enrtuples = double(staging->rows);
    for (int i = 0; i < staging->desc->natts; i++) {
        Form_pg_attribute att = TupleDescAttr(staging->desc, i);
        if (!nulls[i])
            staging->bytes += att->attlen > 0 ? uint64(att->attlen)
                                              : uint64(VARSIZE_ANY(DatumGetPointer(values[i])));
    }
    staging->bytes += 32; // tuple header and bookkeeping
}

void register_staging(Staging *staging) {
    int rc = SPI_register_relation(staging->relation);
    if (rc != SPI_OK_REL_REGISTER)
        elog(ERROR, "SPI_register_relation failed: %s", SPI_result_code_string(rc));
}

void reset_staging(Staging *staging) {
    tuplestore_end(staging->store);
    MemoryContext caller = MemoryContextSwitchTo(staging->context);
    staging->store = tuplestore_begin_heap(false, false, staging->memory_kb);
    MemoryContextSwitchTo(caller);
    staging->relation->reldata = staging->store;
    staging->rows = 0;
    staging->bytes = 0;
    staging->relation->md.enrtuples = 0;
}

} // namespace convoy::pg
