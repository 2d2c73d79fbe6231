# PGXS build of the convoy_backup extension: the PostgreSQL layer (src/pg) and the
# pure C++ core (src/core) linked into one shared library. The core's unit tests
# are built separately by CMake (CMakeLists.txt).

MODULE_big = convoy_backup
EXTENSION = convoy_backup
DATA = convoy_backup--0.1.0.sql convoy_backup--0.1.0--0.2.0.sql convoy_backup--0.2.0.sql
PGFILEDESC = "convoy_backup - continuous backup of INSERTed rows to blob storage"

CORE_SRCS := $(shell find src/core -name '*.cpp' | sort)
PG_SRCS := $(shell find src/pg -name '*.cpp' | sort)
OBJS = $(CORE_SRCS:.cpp=.o) $(PG_SRCS:.cpp=.o)

# pg_regress (sql/, expected/) runs against a throwaway instance with the library
# preloaded and wal_level=logical, which a stock installcheck server does not have.
REGRESS = settings sql_api encode_numbers encode_datetime encode_json encode_text_bytea encode_arrays_composites encode_other_types encode_toast encode_columns encode_spelled encode_json_casts encode_database_encoding plugin_filter export_jobs export_identifiers export_security export_refusals export_errors extension_update restore_json_nul verify_restore
REGRESS_OPTS = --temp-instance=./tmp_check --temp-config=test/regress.conf
TAP_TESTS = 1
PROVE_TESTS = test/tap/t/*.pl

PG_CONFIG ?= pg_config

# C++17; -Wno-register because PostgreSQL 15's s_lock.h uses `register`.
PG_CXXFLAGS += -std=c++17 -Wno-register -Wall -Wextra -Wno-unused-parameter \
	-Wno-missing-field-initializers -fno-omit-frame-pointer
PG_CPPFLAGS += -I$(CURDIR)/src
# Header dependencies (PGXS does not track them): a changed struct must rebuild
# every object that uses it, or shared memory layouts disagree.
PG_CXXFLAGS += -MMD -MP
EXTRA_CLEAN = $(OBJS:.o=.d)
# The library is linked with $(CC): name the C++ runtime and the core's libraries.
SHLIB_LINK += -lstdc++ -ldeflate -lz -lcurl -lcrypto -ljansson -pthread

# PGXS would also build LLVM bitcode for JIT inlining, with clang and without
# PG_CXXFLAGS, which fails on C++17. Nothing here is worth inlining into
# JIT-compiled queries, so skip it (override: Makefile.global sets it later).
override with_llvm = no

PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

-include $(OBJS:.o=.d)

.PHONY: unit-test
unit-test:
	cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo
	cmake --build build -j$$(nproc)
	cd build && ctest --output-on-failure
