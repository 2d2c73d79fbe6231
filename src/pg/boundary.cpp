// Conversions across the PostgreSQL/C++ boundary (see boundary.hpp for the rule).
#include "pg/boundary.hpp"

#include <cstring>
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
        if (const auto *pg_error = dynamic_cast<const PgError *>(&e))
            failure.sqlerrcode = pg_error->sqlerrcode();
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
    case ErrorKind::internal:
        break;
    }
    return ERRCODE_INTERNAL_ERROR;
}

void raise_core_failure(const CoreFailure &failure, int elevel) {
    ereport(elevel, (errcode(failure_sqlstate(failure)), errmsg_internal("%s", failure.message),
                     failure.detail[0] ? errdetail_internal("%s", failure.detail) : 0));
}

void rethrow_pg_error_as_exception(MemoryContext caller_context) {
    MemoryContextSwitchTo(caller_context);
    ErrorData *edata = CopyErrorData();
    FlushErrorState();
    std::string message = edata->message ? edata->message : "unknown PostgreSQL error";
    std::string detail = edata->detail ? edata->detail : "";
    int sqlerrcode = edata->sqlerrcode;
    FreeErrorData(edata);
    throw PgError(sqlerrcode, std::move(message), std::move(detail));
}

} // namespace convoy::pg
