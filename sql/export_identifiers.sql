-- The export query quotes every identifier: schemas that are keywords, tables
-- and time columns with capitals and spaces.
CREATE EXTENSION convoy_backup;
\set export_name export_identifiers
\getenv abs_srcdir PG_ABS_SRCDIR
\i :abs_srcdir/sql/include/export_setup.psql

CREATE SCHEMA "order";
CREATE TABLE "order".events (id int, created_at timestamptz, deleted_at timestamptz);
CREATE TABLE "order"."Mixed Case" (id int, "Inserted At" timestamptz);
INSERT INTO "order".events VALUES
    (1, '2026-01-01 00:10+00', NULL),
    (2, '2026-01-01 00:20+00', '2026-01-01 00:30+00'),  -- soft-deleted: skipped
    (3, '2026-01-01 01:10+00', NULL);                   -- after the window
INSERT INTO "order"."Mixed Case" VALUES (1, '2026-01-01 00:15+00'), (2, '2026-01-01 00:45+00');

ALTER SYSTEM SET convoy_backup.tables = '"order".events, "order"."Mixed Case":"Inserted At"';
:reload;
SELECT table_name, rows, object_key
  FROM convoy_backup.convoy_backup_export('2026-01-01 00:00+00', '2026-01-01 01:00+00');
CREATE TEMP TABLE exported (j jsonb);
:load_objects;
SELECT j FROM exported ORDER BY j::text;

ALTER SYSTEM RESET convoy_backup.tables;
ALTER SYSTEM RESET convoy_backup.on_prem_path;
:reload;
SET client_min_messages = warning;
DROP SCHEMA "order" CASCADE;
DROP EXTENSION convoy_backup;
