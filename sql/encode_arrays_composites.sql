-- Arrays (NULL elements, several dimensions, empty) and composites
-- (nested arrays, arrays of composites, NULL fields).
\getenv abs_srcdir PG_ABS_SRCDIR
\i :abs_srcdir/sql/include/parity_setup.psql
CREATE TYPE parity.pair AS (label text, at timestamptz, tags int[]);
CREATE TABLE parity.arrays (id int PRIMARY KEY, ia int[], m int[][], c parity.pair,
                            ca parity.pair[]);
INSERT INTO parity.arrays VALUES
    (1, '{1,NULL,3}', '{{1,2},{3,4}}', ROW('label', '2026-11-25 06:01:40+03', '{1,2}'),
     ARRAY[ROW('p', NULL, NULL)::parity.pair]),
    (2, '{}', '{{1,NULL},{3,4}}', ROW(NULL, NULL, '{}'), '{}'),
    (3, '[0:1]={5,6}', NULL, NULL, NULL);
\set parity_table parity.arrays
\i :abs_srcdir/sql/include/parity_check.psql
