-- The documented restore (docs/operations.md#restoring) brings back every row,
-- also one whose json value holds the escape \u0000. Such a value is valid
-- json, and the backup keeps it as written; jsonb rejects it. The lines come
-- from both modes: the output plugin (cdc) and convoy_backup_export().
\getenv abs_srcdir PG_ABS_SRCDIR
\set export_name restore
\i :abs_srcdir/sql/include/export_setup.psql
ALTER SYSTEM SET convoy_backup.tables = 'nul.events';
:reload;
CREATE EXTENSION convoy_backup;
SET timezone = 'UTC';

CREATE SCHEMA nul;
CREATE TYPE nul.pair AS (label text, doc json);
CREATE TABLE nul.events (id int PRIMARY KEY, payload json, note text, dropped text,
                         f float8, amount numeric, docs json[], pair nul.pair,
                         meta jsonb, created_at timestamptz);
ALTER TABLE nul.events DROP COLUMN dropped;
SELECT 'init' FROM pg_create_logical_replication_slot('nul', 'convoy_backup');
INSERT INTO nul.events VALUES
    (1, '{"b": "\u0000", "a": [1, "x\\u0000y", "\\\u0000", "\u0000\u0000"]}', 'text',
     '-0', 1.50, NULL, NULL, '{"z": 1, "a": 2}', '2026-01-01 00:00:01+00'),
    (2, '"a lone string with \u0000"', E'u0001 and \u0001 in the text', 1e300, NULL,
     NULL, NULL, '"u0002"', '2026-01-01 00:00:02+00'),
    (3, '[{"k": "\u0000", "\u0000 in a key": 0}]', NULL, NULL, NULL,
     ARRAY['{"in": "an array \u0000"}', '"\u0000"', NULL]::json[],
     ROW('in a composite', '{"doc": "\u0000"}'), NULL, '2026-01-01 00:00:03+00'),
    (4, '{"no":  "nul", "dup": 1, "dup": 2}', 'an ordinary row', 'NaN', 'NaN',
     '{}', ROW(NULL, NULL), '{}', '2026-01-01 00:00:04+00'),
    (5, NULL, NULL, NULL, NULL, NULL, NULL, NULL, '2026-01-01 00:00:05+00');

-- Lines of both modes, loaded as the documented restore loads them.
CREATE TABLE cdc_lines (line json);
INSERT INTO cdc_lines
SELECT data::json FROM pg_logical_slot_get_changes('nul', NULL, NULL, 'tables', 'nul.events');
SELECT table_name, rows
  FROM convoy_backup.convoy_backup_export('2026-01-01 00:00+00', '2026-01-01 01:00+00');
CREATE TABLE export_lines (line json);
\set ECHO none
SELECT format('COPY export_lines FROM PROGRAM %L WITH (FORMAT csv, QUOTE E''\x01'', DELIMITER E''\x02'', ENCODING ''UTF8'')',
              'gzip -dc ' || :'export_dir' || '/backup/2026-01-01/nul.events/*.jsonl.gz') \gexec
\set ECHO all
SELECT (SELECT count(*) FROM cdc_lines) AS cdc_lines, (SELECT count(*) FROM export_lines) AS export_lines;

-- Neither jsonb nor json_populate_record can read a line holding \u0000.
SELECT '{"payload": {"b": "\u0000"}}'::jsonb;
SELECT * FROM json_populate_record(NULL::nul.events, '{"payload": {"b": "\u0000"}}');

-- The documented restore, into copies of the table, with the function as
-- docs/operations.md defines it.
\set ECHO none
\set backup_row `sed -n '/^CREATE FUNCTION pg_temp.backup_row/,/^\$\$;$/p' :'abs_srcdir'/docs/operations.md`
\set ECHO all
SELECT :'backup_row' ~ '^CREATE FUNCTION pg_temp.backup_row\(template anyelement, line json\)' AS function_found;
:backup_row
CREATE TABLE restored_cdc (LIKE nul.events);
INSERT INTO restored_cdc
SELECT r.* FROM cdc_lines, pg_temp.backup_row(NULL::nul.events, line) AS r;
CREATE TABLE restored_export (LIKE nul.events);
INSERT INTO restored_export
SELECT r.* FROM export_lines, pg_temp.backup_row(NULL::nul.events, line) AS r;

-- Every row comes back as it was: the same text, json values included.
SELECT 'cdc' AS mode, e.id, e::text AS original, r::text AS restored
  FROM nul.events e FULL JOIN restored_cdc r USING (id)
 WHERE e::text IS DISTINCT FROM r::text
UNION ALL
SELECT 'export', e.id, e::text, r::text
  FROM nul.events e FULL JOIN restored_export r USING (id)
 WHERE e::text IS DISTINCT FROM r::text;
SELECT id, payload, docs, pair FROM restored_export ORDER BY id;

-- A line that holds, besides \u0000, each escape that could stand in for it is
-- refused rather than restored wrong.
\set SHOW_CONTEXT never
SELECT pg_temp.backup_row(NULL::nul.events,
    '{"id": 6, "payload": "\u0000", "note": "u0001 u0002 u0003 u0004 u0005 u0006 \u0037"}');
\set SHOW_CONTEXT errors

SELECT pg_drop_replication_slot('nul');
DROP TABLE cdc_lines, export_lines, restored_cdc, restored_export;
DROP SCHEMA nul CASCADE;
ALTER SYSTEM RESET convoy_backup.tables;
ALTER SYSTEM RESET convoy_backup.on_prem_path;
SELECT pg_reload_conf();
DROP EXTENSION convoy_backup;
