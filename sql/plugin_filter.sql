-- The output plugin passes on INSERTs of configured tables only.
SET timezone = 'UTC';
CREATE SCHEMA filter;
CREATE SCHEMA "Mixed Case";
CREATE TABLE filter.kept (id int PRIMARY KEY, note text);
CREATE TABLE filter.ignored (id int PRIMARY KEY, note text);
CREATE TABLE "Mixed Case"."Kept Too" (id int, note text);
-- A partitioned table is named once; its rows are decoded per partition.
CREATE TABLE filter.parted (id int, at date) PARTITION BY RANGE (at);
CREATE TABLE filter.parted_2026 PARTITION OF filter.parted
    FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
CREATE TABLE filter.parted_2027 (at date, id int);
ALTER TABLE filter.parted ATTACH PARTITION filter.parted_2027
    FOR VALUES FROM ('2027-01-01') TO ('2028-01-01');
SELECT 'init' FROM pg_create_logical_replication_slot('filter', 'convoy_backup');

BEGIN;
INSERT INTO filter.kept VALUES (1, 'one'), (2, 'two');
INSERT INTO filter.ignored VALUES (1, 'not configured');
INSERT INTO "Mixed Case"."Kept Too" VALUES (10, 'quoted');
UPDATE filter.kept SET note = 'updated' WHERE id = 1;
DELETE FROM filter.kept WHERE id = 2;
COMMIT;
TRUNCATE filter.kept;
INSERT INTO filter.kept VALUES (3, 'after truncate');
INSERT INTO filter.parted VALUES (20, '2026-05-01'), (21, '2027-05-01');
-- A rolled-back insert is never decoded.
BEGIN;
INSERT INTO filter.kept VALUES (4, 'rolled back');
ROLLBACK;
-- A renamed table is no longer the configured one.
ALTER TABLE filter.kept RENAME TO renamed;
INSERT INTO filter.renamed VALUES (5, 'renamed away');
ALTER TABLE filter.renamed RENAME TO kept;
-- A column added later shows up in later rows.
ALTER TABLE filter.kept ADD COLUMN extra jsonb;
INSERT INTO filter.kept VALUES (6, 'with extra', '{"a": 1}');

SELECT data FROM pg_logical_slot_get_changes('filter', NULL, NULL,
    'tables', 'filter.kept, "Mixed Case"."Kept Too", filter.parted');

SELECT pg_drop_replication_slot('filter');
DROP SCHEMA filter CASCADE;
DROP SCHEMA "Mixed Case" CASCADE;
