-- Text and bytea: escapes of quotes, backslashes and control characters,
-- Unicode beyond the BMP, padded char, "char" and name; bytea as "\\x..." hex.
\getenv abs_srcdir PG_ABS_SRCDIR
\i :abs_srcdir/sql/include/parity_setup.psql
CREATE TABLE parity.text_bytea (id int PRIMARY KEY, c char(5), v varchar(40), t text,
                                q "char", n name, b bytea, ba bytea[], ta text[]);
INSERT INTO parity.text_bytea VALUES
    (1, 'ab', 'varchar value', 'text value', 'q', 'a_name', '\x000102fffe',
     '{"\\x00ff", NULL}', '{"a","b c","quote\"","NULL",NULL}'),
    (2, NULL, E'line\r\nbreak',
     E'tab\there "quote" \\ back \u00e9 \u2603 \U0001F600 \x01\x02\x1f\x7f end\n',
     NULL, NULL, '\x', '{}', '{}'),
    (3, '', '', '', NULL, '', NULL, NULL, NULL);
\set parity_table parity.text_bytea
\i :abs_srcdir/sql/include/parity_check.psql
