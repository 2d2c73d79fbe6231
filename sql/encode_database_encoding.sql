-- Backup lines are UTF-8 whatever the database encoding. In a LATIN1 database,
-- strings, column and field names, json, jsonb and output text are converted,
-- in both modes (the output plugin and convoy_backup_export). A SQL_ASCII
-- database is refused: its bytes above 0x7F have no defined encoding.
SELECT current_database() AS regress_db \gset
CREATE DATABASE regress_convoy_latin1 ENCODING 'LATIN1' LC_COLLATE 'C' LC_CTYPE 'C'
    TEMPLATE template0;
CREATE DATABASE regress_convoy_sql_ascii ENCODING 'SQL_ASCII' LC_COLLATE 'C' LC_CTYPE 'C'
    TEMPLATE template0;

\getenv abs_srcdir PG_ABS_SRCDIR
\set export_name encoding
\i :abs_srcdir/sql/include/export_setup.psql
ALTER SYSTEM SET convoy_backup.tables = 'enc.events';
:reload;

-- LATIN1: every non-ASCII character below is a LATIN1 one.
\c regress_convoy_latin1
SET client_encoding = 'UTF8';
SET timezone = 'UTC';
CREATE EXTENSION convoy_backup;
CREATE SCHEMA enc;
CREATE TYPE enc.humeur AS ENUM ('gaîté', 'ennui');
CREATE TYPE enc.paire AS ("clé" text, "valeur" json);
CREATE TABLE enc.events ("café" text, id int, v varchar(20), c char(6), n name,
                         h enc.humeur, j json, jb jsonb, ta text[], p enc.paire,
                         created_at timestamptz);
SELECT 'init' FROM pg_create_logical_replication_slot('enc', 'convoy_backup');
INSERT INTO enc.events VALUES
    ('café', 1, 'Ångström', 'naïve', 'ñame', 'gaîté', E'{"crème":\n"brûlée", "esc": "\\u00e9"}',
     '{"ß": "×÷"}', ARRAY['£', NULL, 'ÿ'], ROW('clé', '"ü"'), '2026-01-01 00:00:01+00'),
    -- Long enough to be converted in several pieces.
    (repeat('aé', 20000), 2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
     '2026-01-01 00:00:02+00');

-- cdc: the plugin writes UTF-8, which is not text in a LATIN1 database, so it
-- declares binary output there.
SELECT data FROM pg_logical_slot_get_changes('enc', NULL, NULL, 'tables', 'enc.events');
CREATE TEMP TABLE decoded AS
SELECT data FROM pg_logical_slot_get_binary_changes('enc', NULL, NULL, 'tables', 'enc.events');
-- The bytes of the first line: UTF-8 (é is \303\251), nothing left in LATIN1.
SELECT encode(data, 'escape') AS first_line FROM decoded
 WHERE convert_from(data, 'UTF8')::jsonb ->> 'id' = '1';
-- Every line is valid UTF-8 (convert_from checks) and equals to_jsonb(row).
SELECT e.id, convert_from(d.data, 'UTF8')::jsonb = to_jsonb(e) AS equals_to_jsonb
  FROM enc.events e
  FULL JOIN decoded d ON (convert_from(d.data, 'UTF8')::jsonb ->> 'id')::int = e.id
 ORDER BY e.id;
SELECT pg_drop_replication_slot('enc');

-- export: the object holds the same UTF-8 lines.
SELECT table_name, rows
  FROM convoy_backup.convoy_backup_export('2026-01-01 00:00+00', '2026-01-01 01:00+00');
\set ECHO none
SELECT format('COPY (SELECT 1) TO PROGRAM %L',
              'gzip -dc ' || :'export_dir' || '/backup/2026-01-01/enc.events/*.jsonl.gz > '
              || :'export_dir' || '/latin1.jsonl') \gexec
SELECT format('CREATE TEMP TABLE exported AS SELECT pg_read_binary_file(%L) AS bytes',
              :'export_dir' || '/latin1.jsonl') \gexec
\set ECHO all
SELECT (SELECT data FROM decoded WHERE convert_from(data, 'UTF8')::jsonb ->> 'id' = '1')
       = substring(bytes FROM 1 FOR position('\x0a'::bytea IN bytes) - 1) AS first_line_as_in_cdc
  FROM exported;
SELECT e.id, l.line::jsonb = to_jsonb(e) AS equals_to_jsonb
  FROM enc.events e
  FULL JOIN (SELECT line FROM exported,
                    regexp_split_to_table(rtrim(convert_from(bytes, 'UTF8'), E'\n'), E'\n') AS line) l
    ON (l.line::jsonb ->> 'id')::int = e.id
 ORDER BY e.id;

-- SQL_ASCII: refused by both modes, with the reason.
\c regress_convoy_sql_ascii
CREATE EXTENSION convoy_backup;
SELECT * FROM convoy_backup.convoy_backup_export('2026-01-01 00:00+00', '2026-01-01 01:00+00');
\echo :LAST_ERROR_SQLSTATE
SELECT 'init' FROM pg_create_logical_replication_slot('ascii', 'convoy_backup');
SELECT count(*) AS slots FROM pg_replication_slots WHERE slot_name = 'ascii';
DROP EXTENSION convoy_backup;

\c :regress_db
DROP DATABASE regress_convoy_latin1;
DROP DATABASE regress_convoy_sql_ascii;
ALTER SYSTEM RESET convoy_backup.tables;
ALTER SYSTEM RESET convoy_backup.on_prem_path;
SELECT pg_reload_conf();
