-- The export reads each table as the table's owner, in a security-restricted
-- operation with search_path pinned to pg_catalog, pg_temp, and reads only
-- ordinary and partitioned tables: whatever code a table owner attaches to a
-- table runs with the owner's rights, never the superuser's.
CREATE EXTENSION convoy_backup;
\set export_name export_security
\getenv abs_srcdir PG_ABS_SRCDIR
\i :abs_srcdir/sql/include/export_setup.psql

\i :abs_srcdir/sql/include/table_owner_code.sql

-- The view is refused, and nothing of it runs.
ALTER SYSTEM SET convoy_backup.tables = 'mal.events';
:reload;
SELECT * FROM convoy_backup.convoy_backup_export('2026-01-01 00:00+00', '2026-01-01 01:00+00');
SELECT rolsuper FROM pg_roles WHERE rolname = 'regress_convoy_mallory';

-- The cast and the policy run as the owner; the owner sees its policy's rows.
ALTER SYSTEM SET convoy_backup.tables = 'mal.stamped, mal.guarded, mal.parted';
:reload;
SELECT table_name, rows
  FROM convoy_backup.convoy_backup_export('2026-01-01 00:00+00', '2026-01-01 01:00+00');
SELECT rolsuper FROM pg_roles WHERE rolname = 'regress_convoy_mallory';
SELECT current_user = session_user AS "identity restored", current_setting('search_path');

-- The owner's rights include using the table's schema.
CREATE SCHEMA locked;
CREATE TABLE locked.events (id int, created_at timestamptz);
ALTER TABLE locked.events OWNER TO regress_convoy_mallory;
ALTER SYSTEM SET convoy_backup.tables = 'locked.events';
:reload;
SELECT * FROM convoy_backup.convoy_backup_export('2026-01-01 00:00+00', '2026-01-01 01:00+00');
GRANT USAGE ON SCHEMA locked TO regress_convoy_mallory;
SELECT table_name, rows
  FROM convoy_backup.convoy_backup_export('2026-01-01 00:00+00', '2026-01-01 01:00+00');

-- Other kinds of relations are refused too, each with its kind named.
CREATE MATERIALIZED VIEW mal.summary AS SELECT 1 AS id, now() AS created_at;
CREATE SEQUENCE mal.counter;
ALTER SYSTEM SET convoy_backup.tables = 'mal.summary';
:reload;
SELECT * FROM convoy_backup.convoy_backup_export('2026-01-01 00:00+00', '2026-01-01 01:00+00');
ALTER SYSTEM SET convoy_backup.tables = 'mal.counter';
:reload;
SELECT * FROM convoy_backup.convoy_backup_export('2026-01-01 00:00+00', '2026-01-01 01:00+00');

ALTER SYSTEM RESET convoy_backup.tables;
ALTER SYSTEM RESET convoy_backup.on_prem_path;
:reload;
SET client_min_messages = warning;
DROP SCHEMA mal, locked CASCADE;
DROP ROLE regress_convoy_mallory;
DROP EXTENSION convoy_backup;
