-- Columns: dropped ones are left out, generated ones written, names that
-- need quoting (capitals, quotes, spaces, keywords, non-ASCII) escaped as keys,
-- and a row of NULLs.
\getenv abs_srcdir PG_ABS_SRCDIR
\i :abs_srcdir/sql/include/parity_setup.psql
CREATE TABLE parity.columns (id int PRIMARY KEY, "Odd ""Name"" é" text, "order" int,
                             dropped_later text, kept int2,
                             generated int8 GENERATED ALWAYS AS (kept::int8 * 2) STORED);
ALTER TABLE parity.columns DROP COLUMN dropped_later;
INSERT INTO parity.columns (id, "Odd ""Name"" é", "order", kept) VALUES
    (1, 'odd column', 7, 21), (2, NULL, NULL, NULL);
\set parity_table parity.columns
\i :abs_srcdir/sql/include/parity_check.psql
