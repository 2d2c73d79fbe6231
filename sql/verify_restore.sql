-- convoy_backup_verify() and convoy_backup_restore() on a local store: what
-- they report and bring back, the faults they find, who may call them, and
-- their errors. The objects come from convoy_backup_export().
CREATE EXTENSION convoy_backup;
\set export_name verify_restore
\getenv abs_srcdir PG_ABS_SRCDIR
\i :abs_srcdir/sql/include/export_setup.psql
\set window_start '''2026-01-01 00:00+00'''
\set window_end '''2026-01-01 01:00+00'''

CREATE SCHEMA vr;
CREATE TYPE vr.mood AS ENUM ('calm', 'busy');
CREATE TABLE vr.events (id bigint PRIMARY KEY, kind vr.mood, payload jsonb, doc json,
                        note varchar(20), amount numeric, ratio float8, tags text[], data bytea,
                        at_time time, span interval, created_at timestamptz NOT NULL);
INSERT INTO vr.events
SELECT i, CASE WHEN i % 2 = 0 THEN 'calm' ELSE 'busy' END::vr.mood,
       jsonb_build_object('i', i, 's', 'x"y\z'),
       CASE WHEN i = 3 THEN '{"nul":  "\u0000"}' ELSE '{"k":  [1, 2.50]}' END::json,
       'note ' || i, i * 1.5, i / 3.0, ARRAY['a', 'b' || i], decode('00ff' || lpad(to_hex(i), 2, '0'), 'hex'),
       '12:34:56', interval '1 day 2 hours',
       :window_start::timestamptz + i * interval '1 minute'
  FROM generate_series(1, 50) i;
-- No primary key: rows are compared whole, and equal rows are several rows.
CREATE TABLE vr.plain (n int, note text, created_at timestamptz);
INSERT INTO vr.plain SELECT i % 5, 'same', '2026-01-01 00:30+00' FROM generate_series(1, 10) i;
-- A time column without a time zone: exported in UTC (this session's zone).
CREATE TABLE vr.stamps (id int PRIMARY KEY, created_at timestamp);
INSERT INTO vr.stamps SELECT i, '2026-01-01 00:00'::timestamp + i * interval '5 minutes'
  FROM generate_series(0, 11) i;
ALTER SYSTEM SET convoy_backup.tables = 'vr.events, vr.plain, vr.stamps';
:reload;
SELECT table_name, rows FROM convoy_backup.convoy_backup_export(:window_start, :window_end);

-- A complete backup, and a part of its range (the rows of 00:11 to 00:20).
SELECT * FROM convoy_backup.convoy_backup_verify('vr.events', :window_start, :window_end);
SELECT rows_in_table, rows_in_backup, objects_read, complete
  FROM convoy_backup.convoy_backup_verify('vr.events', '2026-01-01 00:11+00', '2026-01-01 00:21+00');
SELECT * FROM convoy_backup.convoy_backup_verify('vr.plain', :window_start, :window_end);

-- In another time zone, the same rows are in another range; objects are
-- chosen by the UTC of their manifests and windows, a day wider.
SET timezone = 'America/New_York';
SELECT rows_in_table, rows_in_backup, complete
  FROM convoy_backup.convoy_backup_verify('vr.stamps', '2026-01-01 05:00+00', '2026-01-01 05:30+00');
SET timezone = 'UTC';

-- Restored into an empty copy, every row comes back as it was, the json
-- value holding \u0000 included.
CREATE TABLE vr.copy (LIKE vr.events INCLUDING ALL);
SELECT * FROM convoy_backup.convoy_backup_restore('vr.events', :window_start, :window_end, 'vr.copy');
SELECT count(*) AS differing
  FROM (SELECT e::text FROM vr.events e EXCEPT SELECT c::text FROM vr.copy c) d;
SELECT doc FROM vr.copy WHERE id = 3;
-- Again: every row is there already.
SELECT * FROM convoy_backup.convoy_backup_restore('vr.events', :window_start, :window_end, 'vr.copy');
-- Into the table itself, after rows were deleted: only those come back.
DELETE FROM vr.events WHERE id > 45;
SELECT * FROM convoy_backup.convoy_backup_restore('vr.events', :window_start, :window_end);
SELECT count(*) FROM vr.events;
-- Without a primary key, a row equal to one there is skipped.
CREATE TABLE vr.plain_copy (LIKE vr.plain);
INSERT INTO vr.plain_copy VALUES (0, 'same', '2026-01-01 00:30+00');
SELECT * FROM convoy_backup.convoy_backup_restore('vr.plain', :window_start, :window_end, 'vr.plain_copy');
SELECT n, count(*) FROM vr.plain_copy GROUP BY n ORDER BY n;

-- A line that does not fit the table it is restored into: the error names the
-- object and the line, and nothing is inserted.
CREATE TABLE vr.narrow (id bigint PRIMARY KEY, note varchar(5), created_at timestamptz);
SELECT * FROM convoy_backup.convoy_backup_restore('vr.events', :window_start, :window_end, 'vr.narrow');
CREATE TABLE vr.strict (LIKE vr.events INCLUDING ALL, CHECK (note <> 'note 7'));
SELECT * FROM convoy_backup.convoy_backup_restore('vr.events', :window_start, :window_end, 'vr.strict');
SELECT count(*) FROM vr.strict;
-- A restore in the caller's transaction is undone with it.
BEGIN;
SELECT rows_inserted FROM convoy_backup.convoy_backup_restore('vr.events', :window_start, :window_end, 'vr.narrow');
ROLLBACK;

-- Rows changed, gone, or added since the backup.
UPDATE vr.events SET note = 'changed' WHERE id IN (1, 2);
UPDATE vr.events SET ratio = ratio WHERE id = 4; -- the same content
DELETE FROM vr.events WHERE id = 50;
INSERT INTO vr.events (id, created_at) VALUES (51, '2026-01-01 00:51+00');
SELECT * FROM convoy_backup.convoy_backup_verify('vr.events', :window_start, :window_end);

-- Faults in the store: a copy of an object, a corrupt object, a manifest
-- whose object is gone.
\set object_dir :export_dir '/backup/2026-01-01/vr.events'
\set object :object_dir '/2026-01-01T00:00:00.000000Z_export_2026-01-01T01:00:00.000000Z'
\set ECHO none
SELECT format('COPY (SELECT 1 WHERE false) TO PROGRAM %L',
              format('cp %s.jsonl.gz %s_copy.jsonl.gz', :'object', :'object')) \gexec
\set ECHO all
SELECT duplicated, corrupt_objects, complete
  FROM convoy_backup.convoy_backup_verify('vr.events', :window_start, :window_end);
\set ECHO none
SELECT format('COPY (SELECT ''not gzip'') TO %L', :'object' || '_copy.jsonl.gz') \gexec
\set ECHO all
SELECT duplicated, corrupt_objects, complete
  FROM convoy_backup.convoy_backup_verify('vr.events', :window_start, :window_end);
SELECT * FROM convoy_backup.convoy_backup_restore('vr.events', :window_start, :window_end, 'vr.strict');
\echo :LAST_ERROR_SQLSTATE
\set ECHO none
SELECT format('COPY (SELECT 1 WHERE false) TO PROGRAM %L',
              format('rm %s_copy.jsonl.gz; printf %s > %s_lost.manifest.json', :'object',
                     '''{"format":1}''', :'object')) \gexec
\set ECHO all
SELECT corrupt_objects, complete
  FROM convoy_backup.convoy_backup_verify('vr.events', :window_start, :window_end);
SELECT * FROM convoy_backup.convoy_backup_restore('vr.events', :window_start, :window_end, 'vr.strict');
\set ECHO none
SELECT format('COPY (SELECT 1 WHERE false) TO PROGRAM %L', format('rm %s_lost.manifest.json', :'object')) \gexec
\set ECHO all

-- Arguments.
SELECT * FROM convoy_backup.convoy_backup_verify(NULL, :window_start, :window_end);
SELECT * FROM convoy_backup.convoy_backup_verify('vr.events', NULL, :window_end);
SELECT * FROM convoy_backup.convoy_backup_restore('vr.events', :window_end, :window_start);
CREATE VIEW vr.recent AS SELECT * FROM vr.events;
SELECT * FROM convoy_backup.convoy_backup_verify('vr.recent', :window_start, :window_end);
SELECT * FROM convoy_backup.convoy_backup_restore('vr.events', :window_start, :window_end, 'vr.recent');
CREATE TABLE vr.untimed (id int PRIMARY KEY);
SELECT * FROM convoy_backup.convoy_backup_verify('vr.untimed', :window_start, :window_end);
CREATE TABLE vr.badly_timed (id int PRIMARY KEY, created_at text);
SELECT * FROM convoy_backup.convoy_backup_verify('vr.badly_timed', :window_start, :window_end);
-- A table with its own time column in convoy_backup.tables.
CREATE TABLE vr.attempts (id int PRIMARY KEY, created_at text, inserted_at timestamp);
ALTER SYSTEM SET convoy_backup.tables = 'vr.events, vr.attempts:inserted_at';
:reload;
SELECT rows_in_table, rows_in_backup, objects_read, complete
  FROM convoy_backup.convoy_backup_verify('vr.attempts', :window_start, :window_end);
-- A storage setting that cannot work.
ALTER SYSTEM SET convoy_backup.storage = 's3';
:reload;
SELECT * FROM convoy_backup.convoy_backup_verify('vr.events', :window_start, :window_end);
ALTER SYSTEM RESET convoy_backup.storage;
:reload;

-- Who may call them: superusers and operators; restore only into a table the
-- operator owns, and only a backup of a table the caller may read.
CREATE ROLE regress_vr_stranger;
CREATE ROLE regress_vr_operator IN ROLE convoy_backup_operator;
GRANT USAGE ON SCHEMA vr TO regress_vr_stranger, regress_vr_operator;
GRANT CREATE ON SCHEMA vr TO regress_vr_operator;
SET ROLE regress_vr_stranger;
SELECT * FROM convoy_backup.convoy_backup_verify('vr.events', :window_start, :window_end);
RESET ROLE;
-- Even with EXECUTE granted, the library refuses a role that is no operator.
GRANT USAGE ON SCHEMA convoy_backup TO regress_vr_stranger;
GRANT EXECUTE ON FUNCTION convoy_backup.convoy_backup_verify(regclass, timestamptz, timestamptz)
    TO regress_vr_stranger;
SET ROLE regress_vr_stranger;
SELECT * FROM convoy_backup.convoy_backup_verify('vr.events', :window_start, :window_end);
RESET ROLE;
SET ROLE regress_vr_operator;
SELECT * FROM convoy_backup.convoy_backup_verify('vr.events', :window_start, :window_end);
RESET ROLE;
GRANT SELECT ON vr.events TO regress_vr_operator;
SET ROLE regress_vr_operator;
SELECT rows_in_table, rows_in_backup FROM convoy_backup.convoy_backup_verify('vr.events', :window_start, :window_end);
SELECT * FROM convoy_backup.convoy_backup_restore('vr.events', :window_start, :window_end, 'vr.copy');
CREATE TABLE vr.mine (LIKE vr.events);
SELECT * FROM convoy_backup.convoy_backup_restore('vr.events', :window_start, :window_end, 'vr.mine');
SELECT count(*) FROM vr.mine;
SELECT * FROM convoy_backup.convoy_backup_restore('vr.plain', :window_start, :window_end, 'vr.mine');
BEGIN READ ONLY;
SELECT * FROM convoy_backup.convoy_backup_restore('vr.events', :window_start, :window_end, 'vr.mine');
ROLLBACK;
RESET ROLE;
-- Row-level security that applies to the caller hides rows of the table; the
-- backup holds them all: neither function reads it for such a caller.
ALTER TABLE vr.events ENABLE ROW LEVEL SECURITY;
SET ROLE regress_vr_operator;
SELECT * FROM convoy_backup.convoy_backup_restore('vr.events', :window_start, :window_end, 'vr.mine');
SELECT rows_in_table, rows_in_backup FROM convoy_backup.convoy_backup_verify('vr.events', :window_start, :window_end);
RESET ROLE;
ALTER TABLE vr.events DISABLE ROW LEVEL SECURITY;

ALTER SYSTEM RESET convoy_backup.tables;
ALTER SYSTEM RESET convoy_backup.on_prem_path;
:reload;
SET client_min_messages = warning;
DROP SCHEMA vr CASCADE;
REVOKE USAGE ON SCHEMA convoy_backup FROM regress_vr_stranger;
REVOKE EXECUTE ON FUNCTION convoy_backup.convoy_backup_verify(regclass, timestamptz, timestamptz)
    FROM regress_vr_stranger;
DROP ROLE regress_vr_stranger;
DROP ROLE regress_vr_operator;
DROP EXTENSION convoy_backup;
