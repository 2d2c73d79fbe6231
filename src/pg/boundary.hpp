// The boundary between PostgreSQL and the C++ core, and the rule that keeps it safe.
//
// PostgreSQL reports errors by longjmp (ereport/elog at ERROR or above); the core
// reports them by C++ exception and owns resources through destructors. Neither
// mechanism may cross into the other's frames:
//
//  1. No C++ exception may unwind into PostgreSQL code. The PostgreSQL layer calls
//     the core only inside run_core(), which catches everything and hands back a
//     CoreFailure; raise_core_failure() turns that into an ereport() once the C++
//     frames are gone. Entry points (the worker main, output plugin callbacks, SQL
//     functions, hooks) are written in PostgreSQL style and reach C++ only that way.
//
//  2. No ereport(ERROR) may longjmp through C++ frames that own resources. Files in
//     src/pg hold no RAII objects: they use palloc, StringInfo and PostgreSQL's own
//     containers, so a longjmp there skips only frames with nothing to destroy.
//     C++ that owns resources and must call a PostgreSQL function that can fail
//     does so only through pg_guarded(), which catches the longjmp at the call site
//     and rethrows it as a convoy::Error, so the C++ frames unwind normally.
#pragma once

#include <exception>
#include <new>
#include <string>
#include <utility>

#include "core/error.hpp"

extern "C" {
#include "postgres.h"
#include "utils/elog.h"
#include "utils/memutils.h"
}

namespace convoy::pg {

struct CoreFailure {
    bool failed = false;
    ErrorKind kind = ErrorKind::internal;
    int sqlerrcode = 0; // a PostgreSQL error's own SQLSTATE (see PgError); 0: from kind
    char message[512] = "";
    char detail[512] = "";
};

// A PostgreSQL ERROR caught by pg_guarded(), on its way out through C++ frames. It
// keeps the error's SQLSTATE, so that a canceled statement is reported as 57014
// and a bad value as its 22xxx code, not as an internal error.
class PgError : public Error {
public:
    PgError(int sqlerrcode, std::string message, std::string detail)
        : Error(ErrorKind::internal, std::move(message), std::move(detail)),
          sqlerrcode_(sqlerrcode) {}
    int sqlerrcode() const noexcept { return sqlerrcode_; }

private:
    int sqlerrcode_;
};

// Copies an exception's text into plain storage, which outlives the catch scope.
void capture_failure(CoreFailure &failure, std::exception_ptr error) noexcept;

// Runs core code (which must not call PostgreSQL directly; see rule 2) and catches
// every exception it throws.
template <class Fn>
CoreFailure run_core(Fn &&fn) noexcept {
    CoreFailure failure;
    try {
        fn();
    } catch (...) {
        capture_failure(failure, std::current_exception());
    }
    return failure;
}

// The SQLSTATE to report a failure with: a PostgreSQL error's own, else the one
// that fits the core error kind.
int failure_sqlstate(const CoreFailure &failure) noexcept;

// Reports a captured core failure at elevel (ERROR longjmps from here, which is
// safe: the caller holds no C++ objects once run_core() has returned).
void raise_core_failure(const CoreFailure &failure, int elevel);

// Runs core code and raises any failure as an ERROR.
template <class Fn>
void call_core(Fn &&fn) {
    CoreFailure failure = run_core(static_cast<Fn &&>(fn));
    if (failure.failed)
        raise_core_failure(failure, ERROR);
}

// Copies the current PostgreSQL error into a PgError and clears the error
// state; used by pg_guarded() after its longjmp landed.
[[noreturn]] void rethrow_pg_error_as_exception(MemoryContext caller_context);

// The one guarded way for resource-owning C++ to call into PostgreSQL: fn runs with
// its own longjmp target, and a PostgreSQL ERROR becomes a convoy::Error thrown
// here. fn itself must own nothing (its frame is skipped by the longjmp).
template <class Fn>
void pg_guarded(Fn &&fn) {
    MemoryContext caller_context = CurrentMemoryContext;
    sigjmp_buf *saved_stack = PG_exception_stack;
    ErrorContextCallback *saved_context = error_context_stack;
    sigjmp_buf local;
    if (sigsetjmp(local, 0) == 0) {
        PG_exception_stack = &local;
        fn();
        PG_exception_stack = saved_stack;
        error_context_stack = saved_context;
        return;
    }
    PG_exception_stack = saved_stack;
    error_context_stack = saved_context;
    rethrow_pg_error_as_exception(caller_context);
}

} // namespace convoy::pg
