-- convoy_backup_export() reads the window from a snapshot it takes once the
-- window is settled, and writes objects that no rollback takes back: it
-- refuses to run inside a transaction block, whose snapshot may be older. (Its
-- refusal on a standby is tested in TAP test 006.)
CREATE EXTENSION convoy_backup;
\set export_name export_refusals
\getenv abs_srcdir PG_ABS_SRCDIR
\i :abs_srcdir/sql/include/export_setup.psql

CREATE SCHEMA ref;
CREATE TABLE ref.events (id int, created_at timestamptz);
INSERT INTO ref.events VALUES (1, '2026-01-01 00:10+00'), (2, '2026-01-01 01:10+00');
ALTER SYSTEM SET convoy_backup.tables = 'ref.events';
:reload;

BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT count(*) FROM ref.events;
SELECT table_name, rows FROM convoy_backup.convoy_backup_export('2026-01-01 00:00+00', '2026-01-01 01:00+00');
ROLLBACK;
BEGIN;
SAVEPOINT before_export;
SELECT table_name, rows FROM convoy_backup.convoy_backup_export('2026-01-01 00:00+00', '2026-01-01 01:00+00');
ROLLBACK;
-- Several statements in one query string form a transaction block too.
SELECT 1 AS first \; SELECT table_name, rows FROM convoy_backup.convoy_backup_export('2026-01-01 00:00+00', '2026-01-01 01:00+00');
-- So does a PL/pgSQL block with an EXCEPTION clause (a subtransaction).
DO $$
BEGIN
    PERFORM convoy_backup.convoy_backup_export('2026-01-01 00:00+00', '2026-01-01 01:00+00');
EXCEPTION WHEN division_by_zero THEN
    NULL;
END
$$;

-- A statement of its own is fine, however large: here two windows at once.
SELECT w.start, e.table_name, e.rows
  FROM (VALUES (timestamptz '2026-01-01 00:00+00'), ('2026-01-01 01:00+00')) AS w (start),
       LATERAL convoy_backup.convoy_backup_export(w.start, w.start + interval '1 hour') AS e
 ORDER BY w.start;
DO $$
BEGIN
    PERFORM convoy_backup.convoy_backup_export('2026-01-01 00:00+00', '2026-01-01 01:00+00');
END
$$;

ALTER SYSTEM RESET convoy_backup.tables;
ALTER SYSTEM RESET convoy_backup.on_prem_path;
:reload;
DROP SCHEMA ref CASCADE;
DROP EXTENSION convoy_backup;
