-- convoy_backup 0.2.0: status of the continuous backup, export jobs, manual backups, verify and restore.
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
GRANT USAGE ON SCHEMA convoy_backup TO pg_monitor;
GRANT EXECUTE ON FUNCTION convoy_backup_status() TO pg_monitor;

-- Export jobs: one row per window to copy [window_start, window_end). Workers
-- claim pending rows with FOR UPDATE SKIP LOCKED; a running job whose heartbeat
-- stops (its worker died) is claimed again after convoy_backup.job_timeout.
CREATE TABLE jobs (
    id            bigserial PRIMARY KEY,
    kind          text NOT NULL CHECK (kind IN ('scheduled', 'manual')),
    window_start  timestamptz NOT NULL,
    window_end    timestamptz NOT NULL,
    status        text NOT NULL DEFAULT 'pending'
                  CHECK (status IN ('pending', 'running', 'completed', 'failed')),
    attempts      integer NOT NULL DEFAULT 0,
    not_before    timestamptz NOT NULL DEFAULT pg_catalog.now(),
    claimed_by    integer,
    claimed_at    timestamptz,
    heartbeat_at  timestamptz,
    completed_at  timestamptz,
    error         text,
    tables        jsonb,
    requested_by  name NOT NULL DEFAULT CURRENT_USER,
    created_at    timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CHECK (window_end > window_start)
);
COMMENT ON TABLE jobs IS 'convoy_backup export jobs: scheduled windows and manual backups';
-- Scheduled windows follow one another: each start is enqueued once.
CREATE UNIQUE INDEX jobs_scheduled_window ON jobs (window_start) WHERE kind = 'scheduled';
CREATE INDEX jobs_claimable ON jobs (status, not_before) WHERE status IN ('pending', 'running');
SELECT pg_catalog.pg_extension_config_dump('jobs', '');
SELECT pg_catalog.pg_extension_config_dump('jobs_id_seq', '');

-- Members may queue and run manual backups.
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'convoy_backup_operator') THEN
        CREATE ROLE convoy_backup_operator NOLOGIN;
    END IF;
END
$$;

-- Validates a manual window; raises the errors both manual functions share.
CREATE FUNCTION check_manual_window(window_start timestamptz, window_end timestamptz)
RETURNS void
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    max_window interval := pg_catalog.make_interval(secs => (
        SELECT setting::float8 FROM pg_catalog.pg_settings
         WHERE name = 'convoy_backup.max_manual_window'));
BEGIN
    IF window_start IS NULL OR window_end IS NULL THEN
        RAISE EXCEPTION 'window start and end must not be null'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF window_start >= window_end THEN
        RAISE EXCEPTION 'window start must be before its end'
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = pg_catalog.format('The window is [%s, %s).', window_start, window_end);
    END IF;
    IF window_end > pg_catalog.now() THEN
        RAISE EXCEPTION 'window end must not be in the future'
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = pg_catalog.format('The window ends at %s.', window_end);
    END IF;
    IF window_end - window_start > max_window THEN
        RAISE EXCEPTION 'window is longer than convoy_backup.max_manual_window'
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = pg_catalog.format('The window lasts %s; at most %s is allowed.',
                                             window_end - window_start, max_window),
                  HINT = 'Split the window, or raise convoy_backup.max_manual_window.';
    END IF;
END
$$;
COMMENT ON FUNCTION check_manual_window(timestamptz, timestamptz) IS
    'Checks the bounds of a manual window; raises the errors both manual functions share';
REVOKE ALL ON FUNCTION check_manual_window(timestamptz, timestamptz) FROM PUBLIC;

-- Queues a manual export of [start, end) and returns the job's id at once.
CREATE FUNCTION convoy_backup_trigger(start timestamptz, "end" timestamptz)
RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    job_id bigint;
BEGIN
    PERFORM convoy_backup.check_manual_window(start, "end");
    INSERT INTO convoy_backup.jobs (kind, window_start, window_end, requested_by)
    VALUES ('manual', start, "end", SESSION_USER)
    RETURNING id INTO job_id;
    RETURN job_id;
END
$$;
COMMENT ON FUNCTION convoy_backup_trigger(timestamptz, timestamptz) IS
    'Queues a manual export of [start, end) and returns the job''s id';
REVOKE ALL ON FUNCTION convoy_backup_trigger(timestamptz, timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION convoy_backup_trigger(timestamptz, timestamptz) TO convoy_backup_operator;

-- Exports [start, end) now, in the calling session, one object per table. The
-- library reads each table as the table's owner (see docs/export-mode.md).
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

GRANT USAGE ON SCHEMA convoy_backup TO convoy_backup_operator;
-- Operators follow the jobs they queue.
GRANT SELECT ON jobs TO convoy_backup_operator;
-- Monitoring (contrib/prometheus) counts jobs by status.
GRANT SELECT ON jobs TO pg_monitor;
GRANT EXECUTE ON FUNCTION convoy_backup_status() TO convoy_backup_operator;

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
