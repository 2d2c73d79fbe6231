// Every difference between the PostgreSQL majors the extension supports (15,
// 17, 18) lives here, behind one function each; PG_VERSION_NUM is tested
// nowhere else. The PostgreSQL layer calls these instead of the server's own
// functions where the server's signature or structure changed.
//
//   15  ReplicationSlotCreate(name, db_specific, persistency, two_phase);
//       ReorderBufferChange.data.tp.newtuple is a ReorderBufferTupleBuf *;
//       an invalidated slot has an invalid restart_lsn.
//   16  GUC memory (a check hook's new value and extra) is palloc'd in the
//       GUC context by guc_malloc() and freed with guc_free(); 15 used
//       malloc() and free();
//       ReplicationSlotPersistentData.invalidated names why a slot was
//       invalidated (restart_lsn no longer says it for every cause);
//       object_aclcheck() replaces pg_namespace_aclcheck() and friends,
//       object_ownercheck() pg_class_ownercheck() and friends;
//       pgstat_get_local_beentry_by_index() replaces
//       pgstat_fetch_stat_local_beentry().
//   17  ReplicationSlotCreate(..., failover, synced); newtuple is a HeapTuple;
//       failover slots (ReplicationSlotPersistentData.failover,
//       StandbySlotsHaveCaughtup() for synchronized_standby_slots);
//       LogLogicalMessage(..., flush);
//       makeJsonLexContext(lex, json, need_escapes) takes the context to fill;
//       backend ids became proc numbers (VirtualTransactionId.procNumber,
//       ProcNumberGetProc(), PGPROC.vxid.lxid).
//   18  ReplicationSlotAcquire(name, nowait, error_if_invalid);
//       RelationGetPrimaryKeyIndex(relation, deferrable_ok).
#pragma once

extern "C" {
#include "postgres.h"
#include "access/htup.h"
#include "access/xlog.h"
#include "replication/message.h"
#include "replication/reorderbuffer.h"
#include "catalog/pg_class.h"
#include "catalog/pg_namespace.h"
#include "replication/slot.h"
#include "storage/lock.h"
#include "storage/proc.h"
#include "storage/procarray.h"
#include "utils/acl.h"
#include "utils/backend_status.h"
#include "utils/guc.h"
#include "utils/jsonfuncs.h"
#include "utils/relcache.h"
#if PG_VERSION_NUM < 170000
#include "storage/sinvaladt.h"
#endif
}

#if PG_VERSION_NUM < 150000
#error "convoy_backup needs PostgreSQL 15 or later"
#endif

#include <cstdlib>
#include <cstring>

namespace convoy::pg {

// The server's major version, for messages ("15").
constexpr const char server_major_version[] = PG_MAJORVERSION;

// True where the server can synchronize a logical slot to a physical standby
// (PostgreSQL 17's failover slots).
constexpr bool server_has_failover_slots = PG_VERSION_NUM >= 170000;

// Memory the GUC machinery takes over: a check hook's *newval and *extra. Each
// returns nullptr when out of memory (after a LOG on 16+).
inline void *guc_allocate(size_t size) {
#if PG_VERSION_NUM >= 160000
    return guc_malloc(LOG, size);
#else
    return malloc(size);
#endif
}

inline char *guc_string_copy(const char *text) {
#if PG_VERSION_NUM >= 160000
    return guc_strdup(LOG, text);
#else
    return strdup(text);
#endif
}

// Frees what guc_allocate() or guc_string_copy() returned (nullptr is fine).
inline void guc_release(void *memory) {
#if PG_VERSION_NUM >= 160000
    guc_free(memory);
#else
    free(memory);
#endif
}

// Creates the calling process's slot (MyReplicationSlot). failover asks for a
// slot that standbys synchronize; it must be false where
// server_has_failover_slots is false (there is no such slot there).
inline void create_replication_slot(const char *name, bool db_specific,
                                    ReplicationSlotPersistency persistency, bool two_phase,
                                    bool failover) {
#if PG_VERSION_NUM >= 170000
    // synced: only the server's slot sync worker creates synchronized slots.
    ReplicationSlotCreate(name, db_specific, persistency, two_phase, failover, false);
#else
    Assert(!failover);
    ReplicationSlotCreate(name, db_specific, persistency, two_phase);
#endif
}

// Acquires the named slot. An invalidated slot is acquired too (18 would
// raise an ERROR for it instead): the caller checks slot_is_invalidated() and
// says what to do, rather than failing in a restart loop.
inline void acquire_replication_slot(const char *name, bool nowait) {
#if PG_VERSION_NUM >= 180000
    ReplicationSlotAcquire(name, nowait, false);
#else
    ReplicationSlotAcquire(name, nowait);
#endif
}

// Whether the server invalidated the slot (it will not decode any more).
inline bool slot_is_invalidated(const ReplicationSlot *slot) {
#if PG_VERSION_NUM >= 160000
    return slot->data.invalidated != RS_INVAL_NONE;
#else
    return slot->data.restart_lsn == InvalidXLogRecPtr;
#endif
}

// The new row of an INSERT or UPDATE change (nullptr where it carries none).
inline HeapTuple change_new_tuple(const ReorderBufferChange *change) {
#if PG_VERSION_NUM >= 170000
    return change->data.tp.newtuple;
#else
    return change->data.tp.newtuple != nullptr ? &change->data.tp.newtuple->tuple : nullptr;
#endif
}

// A lexer over json text, allocated in the current memory context.
inline JsonLexContext *json_lex_context(text *json, bool need_escapes) {
#if PG_VERSION_NUM >= 170000
    return makeJsonLexContext(nullptr, json, need_escapes);
#else
    return makeJsonLexContext(json, need_escapes);
#endif
}

// Whether role has mode (e.g. ACL_USAGE) on schema.
inline AclResult schema_aclcheck(Oid schema, Oid role, AclMode mode) {
#if PG_VERSION_NUM >= 160000
    return object_aclcheck(NamespaceRelationId, schema, role, mode);
#else
    return pg_namespace_aclcheck(schema, role, mode);
#endif
}

// Whether role owns relation relid (or is a superuser).
inline bool relation_ownercheck(Oid relid, Oid role) {
#if PG_VERSION_NUM >= 160000
    return object_ownercheck(RelationRelationId, relid, role);
#else
    return pg_class_ownercheck(relid, role);
#endif
}

// The relation's primary key index, unless it is deferrable (ON CONFLICT
// cannot use a deferrable one), or InvalidOid.
inline Oid primary_key_index(Relation relation) {
#if PG_VERSION_NUM >= 180000
    return RelationGetPrimaryKeyIndex(relation, false);
#else
    return RelationGetPrimaryKeyIndex(relation);
#endif
}

// The backend now running the top-level transaction vxid, or nullptr (no
// backend, as for a prepared transaction, or it has moved on to another).
inline PGPROC *proc_running(VirtualTransactionId vxid) {
#if PG_VERSION_NUM >= 170000
    PGPROC *proc =
        vxid.procNumber == INVALID_PROC_NUMBER ? nullptr : ProcNumberGetProc(vxid.procNumber);
    return proc != nullptr && proc->vxid.lxid == vxid.localTransactionId ? proc : nullptr;
#else
    PGPROC *proc = vxid.backendId == InvalidBackendId ? nullptr : BackendIdGetProc(vxid.backendId);
    return proc != nullptr && proc->lxid == vxid.localTransactionId ? proc : nullptr;
#endif
}

// The index-th (1-based, up to pgstat_fetch_stat_numbackends()) entry of this
// backend's snapshot of the activity of every backend.
inline LocalPgBackendStatus *local_backend_status(int index) {
#if PG_VERSION_NUM >= 160000
    return pgstat_get_local_beentry_by_index(index);
#else
    return pgstat_fetch_stat_local_beentry(index);
#endif
}

// Whether the slot is a failover slot, which standbys synchronize (never where
// server_has_failover_slots is false).
inline bool slot_is_failover(const ReplicationSlot *slot) {
#if PG_VERSION_NUM >= 170000
    return slot->data.failover;
#else
    return false;
#endif
}

// Makes the slot this process holds (MyReplicationSlot) a failover slot or not,
// durably: ReplicationSlotAlter() does the same for a slot it acquires itself,
// which a slot in use for decoding cannot be released for. Only on a primary;
// failover must be false where server_has_failover_slots is false.
inline void set_held_slot_failover(bool failover) {
#if PG_VERSION_NUM >= 170000
    SpinLockAcquire(&MyReplicationSlot->mutex);
    MyReplicationSlot->data.failover = failover;
    SpinLockRelease(&MyReplicationSlot->mutex);
    ReplicationSlotMarkDirty();
    ReplicationSlotSave();
#else
    Assert(!failover);
#endif
}

// Whether the standbys named in synchronized_standby_slots have received WAL up
// to lsn, as logical decoding of the failover slot this process holds must wait
// for (true for any other slot, or when the setting is empty). elevel: how the
// server reports a standby slot that is missing, invalidated or inactive.
inline bool standbys_have_wal(XLogRecPtr lsn, int elevel) {
#if PG_VERSION_NUM >= 170000
    if (MyReplicationSlot == nullptr || !MyReplicationSlot->data.failover)
        return true;
    return StandbySlotsHaveCaughtup(lsn, elevel);
#else
    return true;
#endif
}

// Writes a non-transactional logical decoding message (as
// pg_logical_emit_message(false, ...) does) and flushes WAL up to its end,
// which it returns.
inline XLogRecPtr log_flushed_message(const char *prefix, const char *message, size_t size) {
#if PG_VERSION_NUM >= 170000
    return LogLogicalMessage(prefix, message, size, false, true);
#else
    XLogRecPtr end = LogLogicalMessage(prefix, message, size, false);
    XLogFlush(end);
    return end;
#endif
}

} // namespace convoy::pg
