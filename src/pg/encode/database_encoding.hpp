// Backup lines are UTF-8 whatever the database encoding (the row encoder
// converts). The one encoding that cannot be converted is SQL_ASCII, whose bytes
// above 0x7F stand for no defined characters: a database in SQL_ASCII is refused,
// by the cdc worker (which then stays stopped), the output plugin and export.
#pragma once

extern "C" {
#include "postgres.h"
}

namespace convoy::pg {

// Why the connected database cannot be backed up, as an errmsg-style message
// (palloc'd in the caller's memory context), or nullptr when it can be.
const char *unsupported_database_encoding();

// The hint that goes with that message.
extern const char *const unsupported_encoding_hint;

// text, a name in the database encoding, as UTF-8 (what manifests hold),
// palloc'd in context. A conversion needs the catalogs: outside a transaction
// it starts one of its own, which ASCII text and UTF-8 databases never need.
char *utf8_copy(const char *text, MemoryContext context);

// ERRORs (feature not supported, with a detail and the hint) when the connected
// database cannot be backed up.
void check_database_encoding();

} // namespace convoy::pg
