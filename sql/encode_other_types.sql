-- Domains, enums and types written as their output text: uuid, network,
-- xml, geometry, bit strings, tsvector, ranges, oid, regclass, pg_lsn.
\getenv abs_srcdir PG_ABS_SRCDIR
\i :abs_srcdir/sql/include/parity_setup.psql
CREATE TYPE parity.mood AS ENUM ('sad', 'ok', 'happy');
CREATE DOMAIN parity.positive AS int CHECK (VALUE > 0);
CREATE DOMAIN parity.labels AS text[];
CREATE TABLE parity.other (id int PRIMARY KEY, e parity.mood, d parity.positive,
                           dl parity.labels, u uuid, i inet, c cidr, mac macaddr, x xml,
                           p point, bx box, bt bit(4), vb varbit, tv tsvector,
                           r int4range, o oid, rc regclass, l pg_lsn, b bool);
INSERT INTO parity.other VALUES
    (1, 'happy', 42, '{x,y}', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '192.168.0.1/24',
     '10.0.0.0/8', '08:00:2b:01:02:03', '<a href="x">text &amp; more</a>', '(1.5,-2)',
     '((0,0),(1,1))', B'1010', B'110', 'fat:2 rat:3 cat', '[1,10)', 4294967295, 'pg_class',
     '16/B374D848', true),
    (2, 'sad', 1, '{}', NULL, '::1', NULL, NULL, NULL, NULL, NULL, NULL, B'', '', 'empty',
     0, NULL, '0/0', false);
\set parity_table parity.other
\i :abs_srcdir/sql/include/parity_check.psql
