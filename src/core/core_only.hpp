// Include this last in every file of the pure C++ core.
//
// The core never sees a PostgreSQL header: it may throw C++ exceptions and own
// resources through RAII, which is only safe where no ereport() longjmp can pass.
// CMake builds the core without the server include path; this guard makes the
// mistake a compile error in the PGXS build too.
#pragma once

#ifdef POSTGRES_H
#error "src/core must not include PostgreSQL headers; put PostgreSQL code in src/pg"
#endif
