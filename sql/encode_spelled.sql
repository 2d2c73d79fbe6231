-- A few encodings spelled out: the lines' text itself, not just their meaning
-- (numbers keep their type's text, json keeps its own, bytea is hex, arrays nest).
\getenv abs_srcdir PG_ABS_SRCDIR
\i :abs_srcdir/sql/include/parity_setup.psql
CREATE TABLE parity.spelled (id int PRIMARY KEY, f float8, n numeric, b bytea, j json,
                             ts timestamptz, ok bool, s text, a int[]);
INSERT INTO parity.spelled VALUES
    (1, 'NaN', 1e+100, '\xdeadbeef', E'[1,\n2]', '2026-11-25 06:01:40+03', true,
     E'a"b\\c\u0001\t', '{{1,NULL},{3,4}}'),
    (2, '-Infinity', -0.000, '\x', 'null', 'infinity', false, '', '{}');
SELECT data FROM pg_logical_slot_peek_changes('parity', NULL, NULL, 'tables', 'parity.spelled');
\set parity_table parity.spelled
\i :abs_srcdir/sql/include/parity_check.psql
