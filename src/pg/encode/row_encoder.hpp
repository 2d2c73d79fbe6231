// Encodes a row as one line of JSON that equals to_jsonb(row) semantically: the
// single encoder of both backup modes (decoded WAL tuples and exported rows).
// Lines are UTF-8 whatever the database encoding: strings are converted on their
// way in, unless the database is UTF-8 (decided once per process). A SQL_ASCII
// database is refused (see database_encoding.hpp).
//
// Differences from to_jsonb's text, none of them semantic: keys keep column order
// rather than jsonb's sorted order; numbers keep their type's text (1e+100 rather
// than jsonb's expanded digits); json values are embedded as written, with any
// line breaks between tokens turned into spaces so that one row stays one line;
// timestamptz values are always written in UTC ("+00:00"), whatever the session
// TimeZone, so that a backup does not depend on the worker's settings; bytea is
// always hex ("\\x..."), whatever bytea_output says.
//
// As in to_jsonb(), a type that is not built in and has an explicit cast to json
// (hstore, say) is written as that cast's result, also inside arrays, composites
// and domains; which way each type goes is decided once per encoder, not per row.
#pragma once

extern "C" {
#include "postgres.h"
#include "access/tupdesc.h"
#include "lib/stringinfo.h"
}

#include "pg/encode/time_range.hpp"

namespace convoy::pg {

struct RowEncoder;

// Prepares an encoder for rows of desc (column names escaped and types looked up
// once). Allocates a memory context under the current one; needs catalog access.
// ERRORs in a SQL_ASCII database.
//
// time_column (may be null) names the table's time column, whose values
// encode_row() notes for manifests when it is of type timestamptz, timestamp
// (read as UTC) or date, or a domain over one of them; a column of another
// type, or none of that name, gives no time range.
RowEncoder *create_row_encoder(TupleDesc desc, const char *time_column = nullptr);
void free_row_encoder(RowEncoder *encoder);

// Appends {"col":value,...} (no newline). Output functions allocate in the current
// memory context: callers reset a per-row context around this. With times, a
// non-null value of the time column widens it: one by-value datum per row, read
// as it is (see time_value_micros()).
void encode_row(RowEncoder *encoder, StringInfo out, const Datum *values, const bool *nulls,
                TimeRange *times = nullptr);

} // namespace convoy::pg
