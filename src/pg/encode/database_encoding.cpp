#include "pg/encode/database_encoding.hpp"

extern "C" {
#include "postgres.h"
#include "access/xact.h"
#include "commands/dbcommands.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
}

namespace convoy::pg {

const char *const unsupported_encoding_hint =
    "Back up a database created with another encoding, such as UTF8.";

const char *unsupported_database_encoding() {
    if (GetDatabaseEncoding() != PG_SQL_ASCII)
        return nullptr;
    // The cdc worker asks before it starts any transaction.
    MemoryContext caller = CurrentMemoryContext;
    bool own_transaction = !IsTransactionState();
    if (own_transaction)
        StartTransactionCommand();
    const char *name = get_database_name(MyDatabaseId);
    MemoryContext old = MemoryContextSwitchTo(caller);
    char *message = psprintf("database \"%s\" has encoding \"%s\", which cannot be converted to UTF-8",
                             name ? name : "?", GetDatabaseEncodingName());
    MemoryContextSwitchTo(old);
    if (own_transaction)
        CommitTransactionCommand();
    MemoryContextSwitchTo(caller);
    return message;
}

char *utf8_copy(const char *text, MemoryContext context) {
    bool ascii = true;
    for (const char *c = text; *c && ascii; c++)
        ascii = !IS_HIGHBIT_SET(*c);
    if (ascii || GetDatabaseEncoding() == PG_UTF8)
        return MemoryContextStrdup(context, text);
    MemoryContext caller = CurrentMemoryContext;
    bool own_transaction = !IsTransactionState();
    if (own_transaction)
        StartTransactionCommand();
    MemoryContextSwitchTo(context);
    char *converted = pg_server_to_any(text, static_cast<int>(strlen(text)), PG_UTF8);
    char *copy = converted == text ? pstrdup(text) : converted;
    if (own_transaction)
        CommitTransactionCommand();
    MemoryContextSwitchTo(caller);
    return copy;
}

void check_database_encoding() {
    const char *message = unsupported_database_encoding();
    if (message != nullptr)
        ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED), errmsg("%s", message),
                        errdetail("Backup objects are UTF-8, and SQL_ASCII does not define which "
                                  "characters the bytes above 0x7F stand for."),
                        errhint("%s", unsupported_encoding_hint)));
}

} // namespace convoy::pg
