-- json and jsonb: json embedded as written (line breaks between tokens
-- become spaces, so a row stays one line), jsonb as its own output, arrays of
-- jsonb, escapes and Unicode.
\getenv abs_srcdir PG_ABS_SRCDIR
\i :abs_srcdir/sql/include/parity_setup.psql
CREATE TABLE parity.json (id int PRIMARY KEY, j json, jb jsonb, jba jsonb[]);
INSERT INTO parity.json VALUES
    (1, '{"b": 2, "a": [1, 2.50, "x"], "n": null}', '{"nested": {"k": [true, false, null]}}',
     ARRAY['{"x": 1}'::jsonb, 'null'::jsonb, '[1]'::jsonb]),
    (2, E'{\n  "multi": [1,\n 2],\r\n "s": "a\\nb"\n}',
     '{"unicode": "\u00e9\u2603", "esc": "\"\\\/\b\f\n\r\t"}', '{}'),
    (3, 'null', '"just a string"', NULL),
    (4, '[]', '12.50', NULL);
\set parity_table parity.json
\i :abs_srcdir/sql/include/parity_check.psql
