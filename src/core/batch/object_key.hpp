// Names of backup objects: backup/{date}/{table}/{timestamp}_{lsn}[_{n}].jsonl.gz
//
// A batch's key is derived from its first row (the commit time and commit LSN of
// its transaction, and the row's position among that transaction's rows of the
// table), not from the clock at flush time. Two batches therefore never share a
// key, and a batch written again after a crash, before the slot could advance,
// lands on the key it had and replaces the earlier copy instead of duplicating it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/core_only.hpp"

namespace convoy {

struct BatchOrigin {
    std::string_view table;        // qualified name as configured, e.g. "convoy.events"
    int64_t commit_unix_micros;    // commit time of the first row's transaction (UTC)
    uint64_t commit_lsn;           // start LSN of that transaction's commit record
    uint64_t row_in_transaction;   // 0 unless the transaction was split across batches
};

// "backup/2026-11-25/convoy.events/2026-11-25T06:01:40.123456Z_00000000016B3748.jsonl.gz"
// (with "_00000000000000000003" before ".jsonl.gz" when row_in_transaction is 3:
// 20 digits, so that the parts of a transaction sort in order). Characters of the
// table name outside [A-Za-z0-9._-] are percent-encoded so a name can never add a
// path component.
std::string object_key(const BatchOrigin &origin);

// Export mode's key for one table's window [start, end):
// "backup/2026-11-25/convoy.events/2026-11-25T06:00:00.000000Z_export_2026-11-25T07:00:00.000000Z.jsonl.gz".
// A window is always written under the same key, so a retried export replaces
// what an interrupted one left, and never duplicates it.
std::string export_object_key(std::string_view table, int64_t start_unix_micros,
                              int64_t end_unix_micros);

// "2026-11-25T06:01:40.123456Z" (RFC 3339, UTC, microseconds).
std::string format_rfc3339_utc(int64_t unix_micros);

// "2026-11-25" (UTC).
std::string format_date_utc(int64_t unix_micros);

// Percent-encodes bytes outside [A-Za-z0-9._-].
std::string encode_key_component(std::string_view name);

} // namespace convoy
