-- Types with a cast to json are encoded the way to_jsonb() encodes them
-- (PostgreSQL 15's jsonb_categorize_type): a type that is not built in and has
-- an explicit cast function to json becomes the result of that cast, also as an
-- array element, a composite field or under a domain. A cast to jsonb only does
-- not count, and json is embedded as it is, in arrays too.
SET timezone = 'UTC';
CREATE EXTENSION hstore;
CREATE SCHEMA casts;

-- An enum with a cast to json written in SQL (its result spans two lines), and
-- one with a cast to jsonb only, which to_jsonb() ignores.
CREATE TYPE casts.level AS ENUM ('low', 'high');
CREATE FUNCTION casts.level_json(casts.level) RETURNS json LANGUAGE sql IMMUTABLE
    AS $$ SELECT format(E'{"level":\n%s}', to_json($1::text))::json $$;
CREATE CAST (casts.level AS json) WITH FUNCTION casts.level_json(casts.level);
CREATE TYPE casts.tier AS ENUM ('free', 'paid');
CREATE FUNCTION casts.tier_jsonb(casts.tier) RETURNS jsonb LANGUAGE sql IMMUTABLE
    AS $$ SELECT jsonb_build_object('tier', $1::text) $$;
CREATE CAST (casts.tier AS jsonb) WITH FUNCTION casts.tier_jsonb(casts.tier);
CREATE DOMAIN casts.attrs AS hstore;
CREATE TYPE casts.tagged AS (name text, attrs hstore, level casts.level, raw json);

CREATE TABLE casts.things (
    id           int PRIMARY KEY,
    h            hstore,
    h_array      hstore[],
    h_domain     casts.attrs,
    lvl          casts.level,
    lvl_array    casts.level[],
    tier         casts.tier,
    tagged       casts.tagged,
    tagged_array casts.tagged[],
    j            json,
    j_array      json[]
);

SELECT 'init' FROM pg_create_logical_replication_slot('casts', 'convoy_backup');

INSERT INTO casts.things VALUES
    (1, 'a=>1, b=>NULL, "key with \"quote\""=>"é ☃"', ARRAY['x=>1'::hstore, '', NULL],
     'd=>4', 'high', '{low,NULL,high}', 'paid',
     ROW('first', 'k=>v', 'low', E'{"raw":\n [1, 2]}'),
     ARRAY[ROW('in array', 'z=>26', 'high', '"s"')::casts.tagged, NULL],
     E'{"dup": 1, "dup": 2,\r\n "n": 1.50}', ARRAY[E'{"a":\n1}', '[1,  2]', 'null', NULL]::json[]),
    (2, '', '{}', NULL, NULL, '{}', 'free', ROW(NULL, NULL, NULL, NULL), '{}', '"just a string"',
     '{}'),
    (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
CREATE TEMP TABLE expected AS SELECT id, to_jsonb(t) AS j FROM casts.things t;

-- A field added to the composite type shows up in rows inserted after it.
ALTER TYPE casts.tagged ADD ATTRIBUTE extra hstore;
INSERT INTO casts.things (id, tagged, tagged_array)
VALUES (4, ROW('after', 'k=>v', 'high', '1', 'e=>5'),
        ARRAY[ROW('after', NULL, 'low', NULL, 'f=>6')::casts.tagged]);
INSERT INTO expected SELECT id, to_jsonb(t) FROM casts.things t WHERE id = 4;

CREATE TEMP TABLE decoded AS
SELECT data FROM pg_logical_slot_get_changes('casts', NULL, NULL, 'tables', 'casts.things');

-- One line per row, each equal to to_jsonb() of the row.
SELECT count(*) AS decoded_rows FROM decoded;
SELECT e.id, e.j AS expected, d.data::jsonb AS decoded
  FROM expected e FULL JOIN decoded d ON (d.data::jsonb ->> 'id')::int = e.id
 WHERE d.data::jsonb IS DISTINCT FROM e.j;

-- The lines as written: the casts' results embedded, line breaks as spaces.
SELECT data FROM decoded ORDER BY (data::jsonb ->> 'id')::int;

SELECT pg_drop_replication_slot('casts');

-- A cast that fails stops decoding with its error, and the session can decode
-- again afterwards (the error does not leave the plugin's caches dangling).
CREATE TYPE casts.fussy AS ENUM ('fine', 'bad');
CREATE FUNCTION casts.fussy_json(casts.fussy) RETURNS json LANGUAGE plpgsql IMMUTABLE
    AS $$ BEGIN IF $1 = 'bad' THEN RAISE EXCEPTION 'cannot encode %', $1; END IF; RETURN '"fine"'; END $$;
CREATE CAST (casts.fussy AS json) WITH FUNCTION casts.fussy_json(casts.fussy);
CREATE TABLE casts.fussy_rows (id int, f casts.fussy);
SELECT 'init' FROM pg_create_logical_replication_slot('fussy', 'convoy_backup');
INSERT INTO casts.fussy_rows VALUES (1, 'fine'), (2, 'bad');
\set SHOW_CONTEXT never
SELECT data FROM pg_logical_slot_peek_changes('fussy', NULL, NULL, 'tables', 'casts.fussy_rows');
SELECT data FROM pg_logical_slot_peek_changes('fussy', NULL, NULL, 'tables', 'casts.fussy_rows');
\set SHOW_CONTEXT errors
SELECT pg_drop_replication_slot('fussy');

DROP SCHEMA casts CASCADE;
DROP EXTENSION hstore;
