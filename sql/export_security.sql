-- The export reads each table as the table's owner, in a security-restricted
-- operation with search_path pinned to pg_catalog, pg_temp, and reads only
-- ordinary and partitioned tables: whatever code a table owner attaches to a
-- table runs with the owner's rights, never the superuser's.
CREATE EXTENSION convoy_backup;
\set export_name export_security
\getenv abs_srcdir PG_ABS_SRCDIR
\i :abs_srcdir/sql/include/export_setup.psql

CREATE ROLE regress_convoy_mallory;
CREATE SCHEMA mal AUTHORIZATION regress_convoy_mallory;
SET ROLE regress_convoy_mallory;
-- Code a table owner may run as whoever reads the table: it makes its owner
-- a superuser when the reader is one.
CREATE FUNCTION mal.escalate(what text) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
    RAISE NOTICE '% runs as %, search_path %', what, current_user, current_setting('search_path');
    IF (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user) THEN
        ALTER ROLE regress_convoy_mallory SUPERUSER;
    END IF;
    RETURN true;
END
$$;
-- A table turned into a view by an ON SELECT rule.
CREATE TABLE mal.events (id int, created_at timestamptz);
CREATE RULE "_RETURN" AS ON SELECT TO mal.events DO INSTEAD
    SELECT 1 AS id, timestamptz '2026-01-01 00:30+00' AS created_at WHERE mal.escalate('the view');
-- An ordinary table whose time column is compared through the owner's cast.
CREATE TYPE mal.stamp AS (at timestamptz);
CREATE FUNCTION mal.stamp_time(s mal.stamp) RETURNS timestamptz LANGUAGE plpgsql AS $$
BEGIN
    PERFORM mal.escalate('the cast');
    RETURN s.at;
END
$$;
CREATE CAST (mal.stamp AS timestamptz) WITH FUNCTION mal.stamp_time(mal.stamp) AS IMPLICIT;
CREATE TABLE mal.stamped (id int, created_at mal.stamp);
INSERT INTO mal.stamped VALUES (1, ROW('2026-01-01 00:30+00'));
-- Row-level security that applies to the owner too.
CREATE TABLE mal.guarded (id int, created_at timestamptz);
INSERT INTO mal.guarded VALUES (1, '2026-01-01 00:10+00'), (2, '2026-01-01 00:20+00');
ALTER TABLE mal.guarded ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
CREATE POLICY only_odd ON mal.guarded USING (id % 2 = 1 AND mal.escalate('the policy'));
-- A partitioned table.
CREATE TABLE mal.parted (id int, created_at timestamptz) PARTITION BY RANGE (created_at);
CREATE TABLE mal.parted_2026 PARTITION OF mal.parted
    FOR VALUES FROM ('2026-01-01 00:00+00') TO ('2027-01-01 00:00+00');
INSERT INTO mal.parted VALUES (1, '2026-01-01 00:40+00'), (2, '2026-01-01 02:00+00');
RESET ROLE;

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
