// Conversions across the PostgreSQL/C++ boundary (see boundary.hpp for the rule).
#include "pg/common/boundary.hpp"

#include <cstring>

extern "C" {
#include "access/xact.h"
}
#include <string>

namespace convoy::pg {

namespace {

void copy_text(char *dest, size_t size, const char *src) noexcept {
    strlcpy(dest, src ? src : "", size);
}

} // namespace

void capture_failure(CoreFailure &failure, std::exception_ptr error) noexcept {
    failure.failed = true;
    try {
        std::rethrow_exception(error);
    } catch (const Error &e) {
        failure.kind = e.kind();
        if (const auto *pg_error = dynamic_cast<const PgError *>(&e)) {
            failure.sqlerrcode = pg_error->sqlerrcode();
            copy_text(failure.hint, sizeof(failure.hint), pg_error->hint().c_str());
            copy_text(failure.context, sizeof(failure.context), pg_error->context().c_str());
        }
        copy_text(failure.message, sizeof(failure.message), e.what());
        copy_text(failure.detail, sizeof(failure.detail), e.detail().c_str());
    } catch (const std::bad_alloc &) {
        failure.kind = ErrorKind::out_of_resources;
        copy_text(failure.message, sizeof(failure.message), "out of memory");
    } catch (const std::exception &e) {
        failure.kind = ErrorKind::internal;
        copy_text(failure.message, sizeof(failure.message), e.what());
    } catch (...) {
        failure.kind = ErrorKind::internal;
        copy_text(failure.message, sizeof(failure.message), "unexpected exception in convoy_backup");
    }
}

int failure_sqlstate(const CoreFailure &failure) noexcept {
    if (failure.sqlerrcode != 0)
        return failure.sqlerrcode;
    switch (failure.kind) {
    case ErrorKind::invalid_config:
    case ErrorKind::invalid_key:
        return ERRCODE_INVALID_PARAMETER_VALUE;
    case ErrorKind::storage_io:
        return ERRCODE_IO_ERROR;
    case ErrorKind::storage_auth:
        return ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION;
    case ErrorKind::storage_unavailable:
        return ERRCODE_CONNECTION_FAILURE;
    case ErrorKind::out_of_resources:
        return ERRCODE_OUT_OF_MEMORY;
    case ErrorKind::not_found:
        return ERRCODE_UNDEFINED_FILE;
    case ErrorKind::corrupt_data:
        return ERRCODE_DATA_CORRUPTED;
    case ErrorKind::internal:
        break;
    }
    return ERRCODE_INTERNAL_ERROR;
}

int failure_aux(const CoreFailure &failure) {
    if (failure.detail[0])
        errdetail_internal("%s", failure.detail);
    if (failure.hint[0])
        errhint("%s", failure.hint);
    if (failure.context[0])
        errcontext_msg("%s", failure.context);
    return 0;
}

void raise_core_failure(const CoreFailure &failure, int elevel) {
    ereport(elevel, (errcode(failure_sqlstate(failure)), errmsg_internal("%s", failure.message),
                     failure_aux(failure)));
}

GuardedCaller guarded_caller() {
    return GuardedCaller{CurrentMemoryContext, CurrentResourceOwner,
                         GetCurrentTransactionNestLevel()};
}

void begin_guarded_subtransaction(const GuardedCaller &caller) {
    BeginInternalSubTransaction(nullptr);
    // fn allocates where its caller does, not in the subtransaction's context.
    MemoryContextSwitchTo(caller.memory);
}

void end_guarded_subtransaction(const GuardedCaller &caller) {
    ReleaseCurrentSubTransaction();
    MemoryContextSwitchTo(caller.memory);
    CurrentResourceOwner = caller.owner;
}

void rethrow_pg_error_as_exception(const GuardedCaller &caller) {
    MemoryContextSwitchTo(caller.memory);
    ErrorData *edata = CopyErrorData();
    FlushErrorState();
    if (GetCurrentTransactionNestLevel() > caller.nest_level) {
        // Releases what the failed call held before any C++ cleanup runs.
        RollbackAndReleaseCurrentSubTransaction();
        MemoryContextSwitchTo(caller.memory);
        CurrentResourceOwner = caller.owner;
    }
    auto text = [](const char *value) { return std::string(value ? value : ""); };
    std::string message = edata->message ? edata->message : "unknown PostgreSQL error";
    int sqlerrcode = edata->sqlerrcode;
    PgError error(sqlerrcode, std::move(message), text(edata->detail), text(edata->hint),
                  text(edata->context));
    FreeErrorData(edata);
    throw error;
}

} // namespace convoy::pg
