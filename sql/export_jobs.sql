-- Export mode from SQL: manual jobs, synchronous export, permissions.
-- (No worker runs here: convoy_backup.mode is off in this instance.)
SET timezone = 'UTC';
CREATE EXTENSION convoy_backup;

-- Objects go to a directory of this test run; the tables are this test's.
\getenv abs_srcdir PG_ABS_SRCDIR
\set export_name export_jobs
\i :abs_srcdir/sql/include/export_setup.psql
ALTER SYSTEM SET convoy_backup.tables = 'exp.events, exp.attempts:inserted_at';
:reload;
SHOW convoy_backup.tables;

CREATE SCHEMA exp;
CREATE TABLE exp.events (id int, payload jsonb, data bytea, created_at timestamptz,
                         deleted_at timestamptz);
CREATE TABLE exp.attempts (id int, url text, inserted_at timestamptz);
INSERT INTO exp.events VALUES
    (1, '{"a": 1}', '\x01', '2026-01-01 00:00:00+00', NULL),   -- first instant: in
    (2, '{"b": [true, null]}', NULL, '2026-01-01 00:59:59.999999+00', NULL),
    (3, NULL, '\xff', '2026-01-01 01:00:00+00', NULL),         -- window end: out
    (4, '{}', NULL, '2025-12-31 23:59:59.999999+00', NULL),    -- before: out
    (5, '{"deleted": true}', NULL, '2026-01-01 00:30:00+00', '2026-01-02 00:00:00+00');
INSERT INTO exp.attempts VALUES
    (1, 'https://example.invalid/a', '2026-01-01 00:15:00+00'),
    (2, 'https://example.invalid/b', '2026-01-02 00:15:00+00');

-- The synchronous export: one object per table, under keys naming the window.
SELECT table_name, rows, bytes > 0 AS written, object_key
  FROM convoy_backup.convoy_backup_export('2026-01-01 00:00+00', '2026-01-01 01:00+00');

-- The objects hold exactly to_jsonb() of the rows in the window.
CREATE TEMP TABLE exported (j jsonb);
\set ECHO none
SELECT format('COPY exported FROM PROGRAM %L WITH (FORMAT csv, QUOTE E''\x01'', DELIMITER E''\x02'')',
              'gzip -dc ' || :'export_dir' || '/backup/2026-01-01/exp.events/*.jsonl.gz') \gexec
\set ECHO all
SELECT e.id, x.j = to_jsonb(e) AS equals_to_jsonb
  FROM exp.events e JOIN exported x ON (x.j ->> 'id')::int = e.id ORDER BY e.id;
SELECT count(*) AS exported_rows FROM exported;

-- Soft-deleted rows are exported when convoy_backup.skip_deleted_rows is off.
ALTER SYSTEM SET convoy_backup.skip_deleted_rows = off;
SELECT pg_reload_conf();
SELECT pg_sleep(0.5);
SELECT table_name, rows FROM convoy_backup.convoy_backup_export('2026-01-01 00:00+00', '2026-01-01 01:00+00');
ALTER SYSTEM RESET convoy_backup.skip_deleted_rows;

-- A table without the time column is an error that names the fix.
ALTER SYSTEM SET convoy_backup.tables = 'exp.attempts';
SELECT pg_reload_conf();
SELECT pg_sleep(0.5);
SELECT * FROM convoy_backup.convoy_backup_export('2026-01-01 00:00+00', '2026-01-01 01:00+00');
ALTER SYSTEM SET convoy_backup.tables = 'exp.missing';
SELECT pg_reload_conf();
SELECT pg_sleep(0.5);
SELECT * FROM convoy_backup.convoy_backup_export('2026-01-01 00:00+00', '2026-01-01 01:00+00');

-- An error raised while rows are fetched keeps its own SQLSTATE (here 22012),
-- and is not reported as an internal error. (Here
-- a row-level security policy that applies to the table's owner, whose rights
-- the table is read with.)
CREATE ROLE regress_convoy_owner;
GRANT USAGE ON SCHEMA exp TO regress_convoy_owner;
CREATE TABLE exp.broken (id int, created_at timestamptz);
INSERT INTO exp.broken SELECT id, created_at FROM exp.events;
ALTER TABLE exp.broken OWNER TO regress_convoy_owner;
ALTER TABLE exp.broken ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
CREATE POLICY boom ON exp.broken USING (1 / (id - 2) IS NOT NULL);
ALTER SYSTEM SET convoy_backup.tables = 'exp.broken';
SELECT pg_reload_conf();
SELECT pg_sleep(0.5);
SELECT * FROM convoy_backup.convoy_backup_export('2026-01-01 00:00+00', '2026-01-01 01:00+00');
\echo :LAST_ERROR_SQLSTATE
DROP TABLE exp.broken;
DROP OWNED BY regress_convoy_owner;
DROP ROLE regress_convoy_owner;
ALTER SYSTEM SET convoy_backup.tables = 'exp.missing';
SELECT pg_reload_conf();
SELECT pg_sleep(0.5);

-- Manual jobs: argument checks.
SELECT convoy_backup.convoy_backup_trigger(NULL, now());
SELECT convoy_backup.convoy_backup_trigger(now() - interval '1 hour', NULL);
SELECT convoy_backup.convoy_backup_trigger('2026-01-01 01:00+00', '2026-01-01 00:00+00');
SELECT convoy_backup.convoy_backup_trigger('2026-01-01 01:00+00', '2026-01-01 01:00+00');
SELECT convoy_backup.convoy_backup_trigger('2999-01-01 00:00+00', '2999-01-01 01:00+00');
SELECT convoy_backup.convoy_backup_trigger('2025-01-01 00:00+00', '2026-01-01 00:00+00');
SELECT convoy_backup.convoy_backup_export('2026-01-01 01:00+00', '2026-01-01 00:00+00');

-- Permissions: only superusers and members of convoy_backup_operator.
CREATE ROLE regress_convoy_stranger;
CREATE ROLE regress_convoy_operator IN ROLE convoy_backup_operator;
SET ROLE regress_convoy_stranger;
SELECT convoy_backup.convoy_backup_trigger('2026-01-01 00:00+00', '2026-01-01 01:00+00');
SELECT * FROM convoy_backup.convoy_backup_export('2026-01-01 00:00+00', '2026-01-01 01:00+00');
SELECT * FROM convoy_backup.jobs;
RESET ROLE;
SET SESSION AUTHORIZATION regress_convoy_operator;
SELECT convoy_backup.convoy_backup_trigger('2026-01-01 00:00+00', '2026-01-01 01:00+00') > 0 AS queued;
RESET SESSION AUTHORIZATION;
SELECT convoy_backup.convoy_backup_trigger('2026-01-01 01:00+00', '2026-01-01 02:00+00') > 0 AS queued;

-- The queued jobs wait for a worker.
SELECT kind, window_start, window_end, status, attempts, claimed_by, completed_at, error,
       tables, CASE WHEN requested_by = current_user THEN 'the superuser' ELSE requested_by END
  FROM convoy_backup.jobs ORDER BY id;

DROP ROLE regress_convoy_stranger;
DROP ROLE regress_convoy_operator;
ALTER SYSTEM RESET convoy_backup.tables;
ALTER SYSTEM RESET convoy_backup.on_prem_path;
SELECT pg_reload_conf();
DROP SCHEMA exp CASCADE;
DROP EXTENSION convoy_backup;
