-- convoy_backup 0.1.0: status of the continuous backup.
\echo Use "CREATE EXTENSION convoy_backup" to load this file. \quit

-- The workers and shared memory exist only when the library is preloaded.
DO $$
BEGIN
    IF NOT 'convoy_backup' = ANY (pg_catalog.string_to_array(
            pg_catalog.replace(pg_catalog.current_setting('shared_preload_libraries'), ' ', ''), ','))
    THEN
        RAISE EXCEPTION 'convoy_backup must be loaded via shared_preload_libraries'
            USING HINT = 'Add convoy_backup to shared_preload_libraries in postgresql.conf and restart the server.';
    END IF;
END
$$;

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
    OUT last_error text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'convoy_backup_status'
LANGUAGE C STRICT VOLATILE PARALLEL RESTRICTED;

COMMENT ON FUNCTION convoy_backup_status() IS
    'One row for the cdc worker and one per backed-up table: positions, buffers, objects written, errors';

REVOKE ALL ON FUNCTION convoy_backup_status() FROM PUBLIC;
GRANT USAGE ON SCHEMA convoy_backup TO pg_monitor;
GRANT EXECUTE ON FUNCTION convoy_backup_status() TO pg_monitor;
