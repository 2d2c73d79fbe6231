// Failover slots, marks in WAL and the standby gate (see cdc/failover.hpp).
extern "C" {
#include "postgres.h"
#include "access/rmgr.h"
#include "access/xlog.h"
#include "access/xlogreader.h"
#include "miscadmin.h"
#include "postmaster/interrupt.h"
#include "replication/message.h"
#include "replication/slot.h"
#include "storage/ipc.h"
#include "utils/timestamp.h"
}

#include "pg/cdc/batches.hpp"
#include "pg/cdc/failover.hpp"
#include "pg/cdc/wal_routine.hpp"
#include "pg/common/lsn_format.hpp"
#include "pg/common/pg_compat.hpp"
#include "pg/common/settings.hpp"
#include "pg/common/shared_state.hpp"

namespace convoy::pg {

namespace {

// The prefix of the marks, as pg_logical_emit_message() would name it; other
// logical decoding clients that ask for messages see them under it.
constexpr const char mark_prefix[] = "convoy_backup";
// A wait for the standbys this long is worth a message.
constexpr int standby_wait_report_ms = 10 * 1000;

bool objects_durable = false;
XLogRecPtr last_mark_end = InvalidXLogRecPtr;

// The text of a mark of this worker's slot, up to the position.
int mark_head(char *head, size_t size) {
    return snprintf(head, size, "slot %s backed up to ", setting_slot_name);
}

// The mark's text: the slot's name and the position everything before which is
// in storage, e.g. "slot convoy_backup backed up to 0/157D600".
void write_mark(XLogRecPtr lsn) {
    char text[NAMEDATALEN + 64];
    int len = mark_head(text, sizeof(text));
    len += snprintf(text + len, sizeof(text) - len, "%X/%X", CONVOY_LSN_ARGS(lsn));
    last_mark_end = log_flushed_message(mark_prefix, text, len);
    objects_durable = false;
}

// The position a mark of this worker's slot states, or InvalidXLogRecPtr.
XLogRecPtr read_mark(const xl_logical_message *message) {
    if (message->dbId != MyDatabaseId || message->transactional ||
        message->prefix_size != sizeof(mark_prefix) ||
        memcmp(message->message, mark_prefix, sizeof(mark_prefix)) != 0)
        return InvalidXLogRecPtr;
    const char *text = message->message + message->prefix_size;
    char head[NAMEDATALEN + 32];
    Size head_len = mark_head(head, sizeof(head));
    char position[32];
    if (message->message_size <= head_len ||
        message->message_size - head_len >= sizeof(position) || memcmp(text, head, head_len) != 0)
        return InvalidXLogRecPtr;
    Size position_len = message->message_size - head_len;
    memcpy(position, text + head_len, position_len);
    position[position_len] = '\0';
    uint32 hi, lo;
    int end = 0;
    if (sscanf(position, "%X/%X%n", &hi, &lo, &end) != 2 ||
        static_cast<Size>(end) != position_len)
        return InvalidXLogRecPtr;
    return (static_cast<XLogRecPtr>(hi) << 32) | lo;
}

// The highest position stated by a mark in the WAL records from `from` to
// `to`, or InvalidXLogRecPtr if there is none.
XLogRecPtr last_mark_between(XLogRecPtr from, XLogRecPtr to) {
    XLogReaderRoutine routine = local_wal_routine();
    XLogReaderState *reader = XLogReaderAllocate(wal_segment_size, nullptr, &routine, nullptr);
    if (reader == nullptr)
        ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory"),
                        errdetail("Failed while allocating a WAL reading processor.")));
    XLogRecPtr found = InvalidXLogRecPtr;
    // (With no record after `from`, finding one would wait for new WAL.)
    if (from < to && XLogFindNextRecord(reader, from) != InvalidXLogRecPtr) {
        while (reader->EndRecPtr < to) {
            char *error = nullptr;
            if (XLogReadRecord(reader, &error) == nullptr)
                ereport(ERROR, (errcode_for_file_access(),
                                errmsg("could not read WAL at %X/%X: %s",
                                       CONVOY_LSN_ARGS(reader->EndRecPtr),
                                       error ? error : "no record")));
            CHECK_FOR_INTERRUPTS();
            if (ShutdownRequestPending)
                proc_exit(1); // nothing was changed yet
            if (XLogRecGetRmid(reader) != RM_LOGICALMSG_ID ||
                (XLogRecGetInfo(reader) & ~XLR_INFO_MASK) != XLOG_LOGICAL_MESSAGE)
                continue;
            XLogRecPtr mark =
                read_mark(reinterpret_cast<const xl_logical_message *>(XLogRecGetData(reader)));
            found = Max(found, mark);
        }
    }
    XLogReaderFree(reader);
    return found;
}

XLogRecPtr held_slot_confirmed() {
    SpinLockAcquire(&MyReplicationSlot->mutex);
    XLogRecPtr confirmed = MyReplicationSlot->data.confirmed_flush;
    SpinLockRelease(&MyReplicationSlot->mutex);
    return confirmed;
}

// The wait for the standbys being reported, if any.
TimestampTz standby_wait_since = 0;
bool standby_wait_reported = false;

void report_standby_wait(XLogRecPtr lsn) {
    char message[256];
    snprintf(message, sizeof(message),
             "writing waits for the standbys of synchronized_standby_slots to receive WAL up "
             "to %X/%X",
             CONVOY_LSN_ARGS(lsn));
    record_error(-1, message);
    // The server's own words about a standby slot that is missing or inactive.
    standbys_have_wal(lsn, LOG);
    ereport(LOG, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                  errmsg("convoy_backup cdc worker %s", message),
                  errdetail("Replication slot \"%s\" is a failover slot: nothing is written to "
                            "storage before the standby that may replace this server has the "
                            "WAL it comes from.",
                            setting_slot_name),
                  errhint("Start that standby, or remove its slot from synchronized_standby_slots "
                          "and reload the configuration. Rows stay buffered meanwhile.")));
    standby_wait_reported = true;
}

} // namespace

void follow_failover_setting() {
    if (MyReplicationSlot == nullptr)
        return;
    bool failover = slot_is_failover(MyReplicationSlot);
    if (failover == setting_failover)
        return;
    set_held_slot_failover(setting_failover);
    if (setting_failover) {
        ereport(LOG, (errmsg("convoy_backup made replication slot \"%s\" a failover slot",
                             setting_slot_name),
                      errdetail("Standbys with sync_replication_slots = on synchronize it; after "
                                "a promotion the backup goes on from their copy.")));
        // From now on the standbys' copy may be used: say where the backup is.
        write_mark(held_slot_confirmed());
    } else {
        ereport(LOG, (errmsg("convoy_backup made replication slot \"%s\" an ordinary slot",
                             setting_slot_name),
                      errdetail("convoy_backup.failover is off: standbys no longer synchronize it, "
                                "and a promoted standby starts a new slot, without the rows "
                                "committed since the backup last confirmed the slot.")));
    }
}

void continue_from_last_mark() {
    if (!slot_is_failover(MyReplicationSlot))
        return;
    XLogRecPtr confirmed = held_slot_confirmed();
    XLogRecPtr mark = last_mark_between(confirmed, GetFlushRecPtr(nullptr));
    if (mark > confirmed) {
        cdc_confirm(mark);
        ereport(LOG, (errmsg("convoy_backup moved replication slot \"%s\" forward from %X/%X to "
                             "%X/%X",
                             setting_slot_name, CONVOY_LSN_ARGS(confirmed), CONVOY_LSN_ARGS(mark)),
                      errdetail("WAL says that the rows committed before %X/%X are in storage "
                                "already (the slot was synchronized before the last batches of "
                                "the former primary, or the server stopped before it saved the "
                                "slot).",
                                CONVOY_LSN_ARGS(mark))));
    }
    write_mark(held_slot_confirmed());
}

void note_objects_durable() { objects_durable = true; }

void mark_backed_up(XLogRecPtr lsn) {
    if (objects_durable && MyReplicationSlot != nullptr && slot_is_failover(MyReplicationSlot))
        write_mark(lsn);
}

bool standbys_allow_write(XLogRecPtr decoded_upto) {
    XLogRecPtr needed = Max(decoded_upto, last_mark_end);
    if (needed == InvalidXLogRecPtr || standbys_have_wal(needed, DEBUG1)) {
        if (standby_wait_reported) {
            clear_error(-1);
            ereport(LOG, (errmsg("convoy_backup cdc worker writes again: the standbys of "
                                 "synchronized_standby_slots have received WAL up to %X/%X",
                                 CONVOY_LSN_ARGS(needed))));
        }
        standby_wait_since = 0;
        standby_wait_reported = false;
        return true;
    }
    TimestampTz now = GetCurrentTimestamp();
    if (standby_wait_since == 0)
        standby_wait_since = now;
    else if (!standby_wait_reported &&
             TimestampDifferenceExceeds(standby_wait_since, now, standby_wait_report_ms))
        report_standby_wait(needed);
    return false;
}

} // namespace convoy::pg
