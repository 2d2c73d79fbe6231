-- Tables whose owner, regress_convoy_mallory, attaches code to them that makes
-- it a superuser when a superuser reads them (in a read-only transaction,
-- through a psql run by COPY TO PROGRAM). Used by sql/export_security.sql and
-- test/tap/t/010_export_hardening.pl. Each piece of code raises a WARNING
-- naming who runs it and with which search_path.
CREATE ROLE regress_convoy_mallory LOGIN;
CREATE SCHEMA mal AUTHORIZATION regress_convoy_mallory;
SET ROLE regress_convoy_mallory;
CREATE FUNCTION mal.escalate(what text) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
    RAISE WARNING '% runs as %, search_path %', what, current_user, current_setting('search_path');
    IF (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user) THEN
        IF pg_catalog.current_setting('transaction_read_only')::boolean THEN
            EXECUTE pg_catalog.format('COPY (SELECT 1 WHERE false) TO PROGRAM %L',
                pg_catalog.format('psql -X -h %s -p %s -d postgres -c %s',
                    pg_catalog.split_part(pg_catalog.current_setting('unix_socket_directories'), ',', 1),
                    pg_catalog.current_setting('port'),
                    '"ALTER ROLE regress_convoy_mallory SUPERUSER"'));
        ELSE
            ALTER ROLE regress_convoy_mallory SUPERUSER;
        END IF;
    END IF;
    RETURN true;
END
$$;
-- A view where a table is expected. (Before PostgreSQL 16, an ON SELECT rule
-- could also turn a table into one; the result was the same kind of view.)
CREATE VIEW mal.events AS
    SELECT 1 AS id, timestamptz '2026-01-01 00:30+00' AS created_at WHERE mal.escalate('the view');
-- An ordinary table whose time column is compared through the owner's cast.
CREATE TYPE mal.stamp AS (at timestamptz);
CREATE FUNCTION mal.stamp_time(s mal.stamp) RETURNS timestamptz LANGUAGE plpgsql AS $$
BEGIN
    PERFORM mal.escalate('the cast');
    RETURN s.at;
END
$$;
CREATE CAST (mal.stamp AS timestamptz) WITH FUNCTION mal.stamp_time(mal.stamp) AS IMPLICIT;
CREATE TABLE mal.stamped (id int, created_at mal.stamp);
INSERT INTO mal.stamped VALUES (1, ROW('2026-01-01 00:30+00'));
-- Row-level security that applies to the owner too.
CREATE TABLE mal.guarded (id int, created_at timestamptz);
INSERT INTO mal.guarded VALUES (1, '2026-01-01 00:10+00'), (2, '2026-01-01 00:20+00');
ALTER TABLE mal.guarded ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
CREATE POLICY only_odd ON mal.guarded USING (id % 2 = 1 AND mal.escalate('the policy'));
-- A partitioned table.
CREATE TABLE mal.parted (id int, created_at timestamptz) PARTITION BY RANGE (created_at);
CREATE TABLE mal.parted_2026 PARTITION OF mal.parted
    FOR VALUES FROM ('2026-01-01 00:00+00') TO ('2027-01-01 00:00+00');
INSERT INTO mal.parted VALUES (1, '2026-01-01 00:40+00'), (2, '2026-01-01 02:00+00');
RESET ROLE;
