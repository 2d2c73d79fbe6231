-- Values TOASTed out of line, several MB each, arrive whole.
\getenv abs_srcdir PG_ABS_SRCDIR
\i :abs_srcdir/sql/include/parity_setup.psql
CREATE TABLE parity.toast (id int PRIMARY KEY, t text, b bytea, j json, jb jsonb, ta text[]);
INSERT INTO parity.toast (id, t, b, jb, ta)
SELECT 1, string_agg(md5(g::text), ''), decode(string_agg(md5(g::text), ''), 'hex'),
       jsonb_build_object('big', string_agg(md5(g::text), '')), ARRAY[repeat('a', 100000)]
  FROM generate_series(1, 100000) g;
INSERT INTO parity.toast (id, t, j)
SELECT 2, repeat(E'\u00e9"\\', 1000000), ('"' || repeat('x', 3000000) || '"')::json;
SELECT id, length(t) AS text_chars, length(b) AS bytea_bytes, length(j::text) AS json_chars
  FROM parity.toast ORDER BY id;
\set parity_table parity.toast
\i :abs_srcdir/sql/include/parity_check.psql
