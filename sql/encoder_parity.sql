-- The row encoder against to_jsonb() itself: every row decoded by the output
-- plugin must equal to_jsonb() of the row as inserted, for every built-in type
-- family. timestamptz is always encoded in UTC, so compare in UTC.
SET timezone = 'UTC';
SET extra_float_digits = 1;

CREATE SCHEMA parity;
CREATE TYPE parity.mood AS ENUM ('sad', 'ok', 'happy');
CREATE TYPE parity.pair AS (label text, at timestamptz, tags int[]);
CREATE DOMAIN parity.positive AS int CHECK (VALUE > 0);
CREATE DOMAIN parity.labels AS text[];

CREATE TABLE parity.all_types (
    id          int PRIMARY KEY,
    c_bool      bool,
    c_int2      int2,
    c_int4      int4,
    c_int8      int8,
    c_float4    float4,
    c_float8    float8,
    c_numeric   numeric,
    c_money     money,
    c_char      char(5),
    c_varchar   varchar(40),
    c_text      text,
    c_qchar     "char",
    c_name      name,
    c_bytea     bytea,
    c_date      date,
    c_time      time,
    c_timetz    timetz,
    c_timestamp timestamp,
    c_timestamptz timestamptz,
    c_interval  interval,
    c_uuid      uuid,
    c_inet      inet,
    c_cidr      cidr,
    c_macaddr   macaddr,
    c_json      json,
    c_jsonb     jsonb,
    c_xml       xml,
    c_point     point,
    c_box       box,
    c_bit       bit(4),
    c_varbit    varbit,
    c_tsvector  tsvector,
    c_int4range int4range,
    c_tstzrange tstzrange,
    c_int_array int[],
    c_text_array text[],
    c_matrix    int[][],
    c_ts_array  timestamptz[],
    c_jsonb_array jsonb[],
    c_bytea_array bytea[],
    c_numeric_array numeric[],
    c_composite parity.pair,
    c_composite_array parity.pair[],
    c_enum      parity.mood,
    c_domain    parity.positive,
    c_domain_array parity.labels,
    c_oid       oid,
    c_regclass  regclass,
    c_pg_lsn    pg_lsn,
    "Odd ""Name"" é" text,
    dropped_later text,
    c_generated int8 GENERATED ALWAYS AS (c_int2::int8 * 2) STORED
);
ALTER TABLE parity.all_types DROP COLUMN dropped_later;

SELECT 'init' FROM pg_create_logical_replication_slot('parity', 'convoy_backup');

-- Row 1: ordinary values.
INSERT INTO parity.all_types VALUES (
    1, true, 32767, -2147483648, 9223372036854775807, 1.5, 3.141592653589793, 12345.678900,
    '12.34', 'ab', 'varchar value', 'text value', 'q', 'a_name', '\x000102fffe',
    '2026-11-25', '13:14:15.123456', '13:14:15+02', '2026-11-25 06:01:40.123456',
    '2026-11-25 06:01:40.123456+03', '1 year 2 mons 3 days 04:05:06.7',
    'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '192.168.0.1/24', '10.0.0.0/8', '08:00:2b:01:02:03',
    '{"b": 2, "a": [1, 2.50, "x"], "n": null}', '{"nested": {"k": [true, false, null]}}',
    '<a href="x">text &amp; more</a>', '(1.5,-2)', '((0,0),(1,1))', B'1010', B'110',
    'fat:2 rat:3 cat', '[1,10)', '[2026-01-01 00:00+00,2026-02-01 00:00+00)',
    '{1,NULL,3}', '{"a","b c","quote\"","NULL",NULL}', '{{1,2},{3,4}}',
    '{"2026-11-25 06:01:40+03","infinity"}', ARRAY['{"x": 1}'::jsonb, 'null'::jsonb, '[1]'::jsonb],
    '{"\\x00ff", NULL}', '{1.5, NaN, -0, 1e+30}',
    ROW('label', '2026-11-25 06:01:40+03', '{1,2}'), ARRAY[ROW('p', NULL, NULL)::parity.pair],
    'happy', 42, '{x,y}', 4294967295, 'pg_class', '16/B374D848', 'odd column');

-- Row 2: edge values: extremes, special floats and numerics, escapes, Unicode.
INSERT INTO parity.all_types (id, c_bool, c_int2, c_int8, c_float4, c_float8, c_numeric,
        c_text, c_varchar, c_json, c_jsonb, c_date, c_timestamp, c_timestamptz, c_bytea,
        c_numeric_array, c_text_array, c_int_array)
VALUES (2, false, -32768, -9223372036854775808, 'NaN', 'Infinity', 'NaN',
        E'tab\there "quote" \\ back \u00e9 \u2603 \U0001F600 \x01\x02\x1f\x7f end\n',
        E'line\r\nbreak', E'{\n  "multi": [1,\n 2],\r\n "s": "a\\nb"\n}',
        '{"unicode": "\u00e9\u2603", "esc": "\"\\\/\b\f\n\r\t"}',
        'infinity', '-infinity', 'infinity', '\x',
        '{NaN, Infinity, -Infinity}', '{}', '{}');
INSERT INTO parity.all_types (id, c_float4, c_float8, c_numeric, c_date, c_timestamptz)
VALUES (3, '-Infinity', '-0', '-Infinity', '0001-01-01 BC', '0044-03-15 12:00:00+00 BC'),
       (4, 1e-38, 1e+300, '123456789012345678901234567890.123456789012345678901234567890',
        '5874897-12-31', '294276-12-31 23:59:59.999999+00');
-- Row 5: all NULL.
INSERT INTO parity.all_types (id) VALUES (5);
-- Rows 6-7: values TOASTed out of line, several MB each.
INSERT INTO parity.all_types (id, c_text, c_bytea, c_jsonb, c_text_array)
SELECT 6, string_agg(md5(g::text), ''), decode(string_agg(md5(g::text), ''), 'hex'),
       jsonb_build_object('big', string_agg(md5(g::text), '')), ARRAY[repeat('a', 100000)]
  FROM generate_series(1, 100000) g;
INSERT INTO parity.all_types (id, c_text, c_json)
SELECT 7, repeat(E'\u00e9"\\', 1000000), ('"' || repeat('x', 3000000) || '"')::json;

-- What to_jsonb() says of each row as inserted.
CREATE TEMP TABLE expected AS SELECT id, to_jsonb(t) AS j FROM parity.all_types t;

-- Changes that must not appear: updates, deletes, truncate.
UPDATE parity.all_types SET c_text = 'changed' WHERE id = 1;
DELETE FROM parity.all_types WHERE id = 2;

CREATE TEMP TABLE decoded AS
SELECT data::jsonb AS j
  FROM pg_logical_slot_get_changes('parity', NULL, NULL, 'tables', 'parity.all_types');

-- One line per inserted row, each equal to to_jsonb() of that row.
SELECT count(*) AS decoded_rows FROM decoded;
SELECT e.id, e.j AS expected, d.j AS decoded
  FROM expected e FULL JOIN decoded d ON (d.j ->> 'id')::int = e.id
 WHERE d.j IS DISTINCT FROM e.j;

-- The large values arrived whole.
SELECT (d.j ->> 'id')::int AS id, length(d.j ->> 'c_text') AS text_chars,
       length(d.j ->> 'c_bytea') AS bytea_chars, length(d.j ->> 'c_json') AS json_chars
  FROM decoded d WHERE (d.j ->> 'id')::int IN (6, 7) ORDER BY 1;

-- A few encodings spelled out (their text, not just their meaning).
CREATE TABLE parity.spelled (id int, f float8, n numeric, b bytea, j json, ts timestamptz,
                             ok bool, s text, a int[]);
INSERT INTO parity.spelled VALUES
    (1, 'NaN', 1e+100, '\xdeadbeef', E'[1,\n2]', '2026-11-25 06:01:40+03', true,
     E'a"b\\c\u0001\t', '{{1,NULL},{3,4}}'),
    (2, '-Infinity', -0.000, '\x', 'null', 'infinity', false, '', '{}');
SELECT data FROM pg_logical_slot_get_changes('parity', NULL, NULL, 'tables', 'parity.spelled');

SELECT pg_drop_replication_slot('parity');
DROP SCHEMA parity CASCADE;
