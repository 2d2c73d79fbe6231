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
//     does so only through pg_guarded(), which runs it in an internal
//     subtransaction, catches the longjmp at the call site, rolls the
//     subtransaction back (releasing the locks, buffer pins and memory of the
//     failed call, as a PL/pgSQL exception block does) and only then rethrows
//     it as a convoy::Error, so the C++ frames unwind normally and their cleanup
//     (joining threads, aborting uploads) never runs in a half-failed state.
//
// scripts/check-boundary (run by ./scripts/test) enforces rule 2 by machine: in
// src/pg, C++ objects that own something appear only inside run_core() lambdas,
// at namespace scope, or in files marked "Boundary: core side." (called only
// from run_core(), and calling no ereport/elog/palloc), and never inside a
// pg_guarded() lambda.
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
#include "utils/resowner.h"
}

namespace convoy::pg {

struct CoreFailure {
    bool failed = false;
    ErrorKind kind = ErrorKind::internal;
    int sqlerrcode = 0; // a PostgreSQL error's own SQLSTATE (see PgError); 0: from kind
    char message[512] = "";
    char detail[512] = "";
    char hint[512] = "";    // a PostgreSQL error's hint and context (see PgError)
    char context[512] = "";
};

// A PostgreSQL ERROR caught by pg_guarded(), on its way out through C++ frames. It
// keeps the error's SQLSTATE, so that a canceled statement is reported as 57014
// and a bad value as its 22xxx code, not as an internal error, and its hint and
// context, so that the report says what PostgreSQL said.
class PgError : public Error {
public:
    PgError(int sqlerrcode, std::string message, std::string detail, std::string hint,
            std::string context)
        : Error(ErrorKind::internal, std::move(message), std::move(detail)),
          sqlerrcode_(sqlerrcode), hint_(std::move(hint)), context_(std::move(context)) {}
    int sqlerrcode() const noexcept { return sqlerrcode_; }
    const std::string &hint() const noexcept { return hint_; }
    const std::string &context() const noexcept { return context_; }

private:
    int sqlerrcode_;
    std::string hint_;
    std::string context_;
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

// Adds a captured failure's detail, hint and context to the report being built;
// for use inside ereport(): ereport(ERROR, (errmsg(...), failure_aux(failure))).
int failure_aux(const CoreFailure &failure);

// Reports a captured core failure at elevel (ERROR longjmps from here, which is
// safe: the caller holds no C++ objects once run_core() has returned).
void raise_core_failure(const CoreFailure &failure, int elevel);

// Where pg_guarded() was called from: restored before the error is rethrown.
// (Set before sigsetjmp() and never changed, so it is intact after the longjmp.)
struct GuardedCaller {
    MemoryContext memory;
    ResourceOwner owner;
    int nest_level; // the caller's transaction nesting level
};

GuardedCaller guarded_caller();
void begin_guarded_subtransaction(const GuardedCaller &caller);
void end_guarded_subtransaction(const GuardedCaller &caller);

// After pg_guarded()'s longjmp landed: copies the error into a PgError, rolls
// the subtransaction back, restores the caller's memory context and resource
// owner, and throws.
[[noreturn]] void rethrow_pg_error_as_exception(const GuardedCaller &caller);

// The one guarded way for resource-owning C++ to call into PostgreSQL: fn runs in
// an internal subtransaction with its own longjmp target, and a PostgreSQL ERROR
// becomes a convoy::Error thrown here once the subtransaction is rolled back.
// fn itself must own nothing (its frame is skipped by the longjmp). Needs a
// transaction; the caller's memory context is current while fn runs.
template <class Fn>
void pg_guarded(Fn &&fn) {
    const GuardedCaller caller = guarded_caller();
    sigjmp_buf *saved_stack = PG_exception_stack;
    ErrorContextCallback *saved_context = error_context_stack;
    sigjmp_buf local;
    if (sigsetjmp(local, 0) == 0) {
        PG_exception_stack = &local;
        begin_guarded_subtransaction(caller);
        fn();
        end_guarded_subtransaction(caller);
        PG_exception_stack = saved_stack;
        error_context_stack = saved_context;
        return;
    }
    PG_exception_stack = saved_stack;
    error_context_stack = saved_context;
    rethrow_pg_error_as_exception(caller);
}

} // namespace convoy::pg
