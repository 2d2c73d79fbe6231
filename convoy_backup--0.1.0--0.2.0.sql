-- convoy_backup 0.1.0 -> 0.2.0.
\echo Use "ALTER EXTENSION convoy_backup UPDATE TO '0.2.0'" to load this file. \quit

-- 0.2.0's library reads each table as the table's owner, only ordinary and
-- partitioned tables, waits for every transaction that could still commit rows
-- into a window, and refuses convoy_backup_export() inside a transaction block
-- and on a standby; comments say so.

-- Every function that runs with the extension owner's rights, and the one they
-- call, resolves names in pg_catalog only (and qualifies its own objects).
-- Set again, in case an installation's functions were altered.
ALTER FUNCTION check_manual_window(timestamptz, timestamptz) SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION convoy_backup_trigger(timestamptz, timestamptz) SET search_path = pg_catalog, pg_temp;

COMMENT ON FUNCTION check_manual_window(timestamptz, timestamptz) IS
    'Checks the bounds of a manual window; raises the errors both manual functions share';
COMMENT ON FUNCTION convoy_backup_trigger(timestamptz, timestamptz) IS
    'Queues a manual export of [start, end) and returns the job''s id';
-- convoy_backup_export() also says which store each object went to, and its
-- object_key is the key as stored there (with the store's prefix): a new OUT
-- column, so the function is created again.
DROP FUNCTION convoy_backup_export(timestamptz, timestamptz);
CREATE FUNCTION convoy_backup_export(start timestamptz, "end" timestamptz,
    OUT table_name text, OUT rows bigint, OUT bytes bigint, OUT object_key text, OUT store text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'convoy_backup_export'
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION convoy_backup_export(timestamptz, timestamptz) IS
    'Exports [start, end) now, in this session, once no transaction could still commit rows into it; '
    'reads each table as its owner; not in a transaction block or on a standby';
REVOKE ALL ON FUNCTION convoy_backup_export(timestamptz, timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION convoy_backup_export(timestamptz, timestamptz) TO convoy_backup_operator;

-- convoy_backup_status() also shows each table's last object, as stored, and
-- the store it went to: new OUT columns, so the function is created again.
DROP FUNCTION convoy_backup_status();
CREATE FUNCTION convoy_backup_status(
    OUT scope text,
    OUT slot_name text,
    OUT confirmed_lsn pg_lsn,
    OUT lag_bytes bigint,
    OUT buffered_rows bigint,
    OUT buffered_bytes bigint,
    OUT rows_written bigint,
    OUT objects_written bigint,
    OUT last_flush timestamptz,
    OUT last_error text,
    OUT last_exported_window_end timestamptz,
    OUT export_lag interval,
    OUT last_object text,
    OUT store text,
    OUT retry_count integer,
    OUT next_retry timestamptz,
    OUT oldest_buffered_age interval)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'convoy_backup_status'
LANGUAGE C STRICT VOLATILE PARALLEL RESTRICTED;
COMMENT ON FUNCTION convoy_backup_status() IS
    'One row for the cdc worker and one per backed-up table: positions, buffers, objects written, errors';
REVOKE ALL ON FUNCTION convoy_backup_status() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION convoy_backup_status() TO pg_monitor;
GRANT EXECUTE ON FUNCTION convoy_backup_status() TO convoy_backup_operator;

-- Monitoring (contrib/prometheus) counts jobs by status.
GRANT SELECT ON jobs TO pg_monitor;

-- Reading a table's backup back, with the caller's rights on the tables (not
-- SECURITY DEFINER). The library lets only superusers and operators call them,
-- restore only into a table the operator owns, and reads only keys that the
-- store's own listing returns under backup/ (see docs/operations.md).
CREATE FUNCTION convoy_backup_verify("table" regclass, start timestamptz, "end" timestamptz,
    OUT rows_in_table bigint, OUT rows_in_backup bigint, OUT missing bigint,
    OUT duplicated bigint, OUT mismatched bigint, OUT objects_read bigint,
    OUT bytes_read bigint, OUT corrupt_objects bigint, OUT complete boolean)
RETURNS record
AS 'MODULE_PATHNAME', 'convoy_backup_verify'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION convoy_backup_verify(regclass, timestamptz, timestamptz) IS
    'Reads back every backup object that can hold rows of the table in [start, end) and compares '
    'them with the table''s rows of that range';
REVOKE ALL ON FUNCTION convoy_backup_verify(regclass, timestamptz, timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION convoy_backup_verify(regclass, timestamptz, timestamptz) TO convoy_backup_operator;

CREATE FUNCTION convoy_backup_restore("table" regclass, start timestamptz, "end" timestamptz,
    "into" regclass DEFAULT NULL,
    OUT rows_read bigint, OUT rows_inserted bigint, OUT rows_skipped bigint)
RETURNS record
AS 'MODULE_PATHNAME', 'convoy_backup_restore'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION convoy_backup_restore(regclass, timestamptz, timestamptz, regclass) IS
    'Inserts the backed-up rows of the table in [start, end) into "into" (default: the table), '
    'skipping rows whose primary key is there; all or none';
REVOKE ALL ON FUNCTION convoy_backup_restore(regclass, timestamptz, timestamptz, regclass) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION convoy_backup_restore(regclass, timestamptz, timestamptz, regclass) TO convoy_backup_operator;
