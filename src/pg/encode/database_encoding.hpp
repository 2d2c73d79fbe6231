// Backup lines are UTF-8 whatever the database encoding (the row encoder
// converts). The one encoding that cannot be converted is SQL_ASCII, whose bytes
// above 0x7F stand for no defined characters: a database in SQL_ASCII is refused,
// by the cdc worker (which then stays stopped), the output plugin and export.
#pragma once

namespace convoy::pg {

// Why the connected database cannot be backed up, as an errmsg-style message
// (palloc'd in the caller's memory context), or nullptr when it can be.
const char *unsupported_database_encoding();

// The hint that goes with that message.
extern const char *const unsupported_encoding_hint;

// ERRORs (feature not supported, with a detail and the hint) when the connected
// database cannot be backed up.
void check_database_encoding();

} // namespace convoy::pg
