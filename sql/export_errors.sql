-- An error raised while the export reads a table (inside pg_guarded(), in a
-- subtransaction that is rolled back before the upload is aborted) keeps its
-- SQLSTATE, detail, hint and context, and leaves the session usable.
CREATE EXTENSION convoy_backup;
\set export_name export_errors
\getenv abs_srcdir PG_ABS_SRCDIR
\i :abs_srcdir/sql/include/export_setup.psql

CREATE ROLE regress_convoy_owner;
CREATE SCHEMA err AUTHORIZATION regress_convoy_owner;
SET ROLE regress_convoy_owner;
CREATE FUNCTION err.check_row(id int) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
    IF id = 2 THEN
        RAISE EXCEPTION 'row % is not for export', id
            USING ERRCODE = 'check_violation', DETAIL = 'The policy refuses it.',
                  HINT = 'Ask the table owner.';
    END IF;
    RETURN true;
END
$$;
CREATE TABLE err.events (id int, created_at timestamptz);
INSERT INTO err.events VALUES (1, '2026-01-01 00:10+00'), (2, '2026-01-01 00:20+00');
-- The owner reads the table with its policies applied.
ALTER TABLE err.events ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
CREATE POLICY refuse_two ON err.events USING (err.check_row(id));
RESET ROLE;

ALTER SYSTEM SET convoy_backup.tables = 'err.events';
:reload;
SELECT table_name, rows FROM convoy_backup.convoy_backup_export('2026-01-01 00:00+00', '2026-01-01 01:00+00');
\echo :LAST_ERROR_SQLSTATE
-- No object, not even a temporary file, is left, and the session goes on.
CREATE TEMP TABLE files (n int);
\set ECHO none
SELECT format('COPY files FROM PROGRAM %L', 'find ' || :'export_dir' || ' -type f | wc -l') \gexec
\set ECHO all
SELECT n AS files_left FROM files;
SELECT 1 AS still_usable;

-- Storage settings that cannot work are a configuration error, not one of a table.
ALTER SYSTEM SET convoy_backup.storage = 's3';
:reload;
SELECT table_name, rows FROM convoy_backup.convoy_backup_export('2026-01-01 00:00+00', '2026-01-01 01:00+00');
ALTER SYSTEM RESET convoy_backup.storage;

ALTER SYSTEM RESET convoy_backup.tables;
ALTER SYSTEM RESET convoy_backup.on_prem_path;
:reload;
SET client_min_messages = warning;
DROP SCHEMA err CASCADE;
DROP ROLE regress_convoy_owner;
DROP EXTENSION convoy_backup;
