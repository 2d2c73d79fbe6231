-- The SQL interface: creation, status, permissions.
CREATE EXTENSION convoy_backup;
SELECT n.nspname, p.proname, pg_get_function_result(p.oid)
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
 WHERE n.nspname = 'convoy_backup' ORDER BY p.proname;

-- With convoy_backup.mode = 'off' no worker runs and no slot exists yet.
SELECT scope, slot_name, confirmed_lsn, lag_bytes, buffered_rows, buffered_bytes,
       rows_written, objects_written, last_flush, last_error
  FROM convoy_backup.convoy_backup_status();

-- Only superusers and pg_monitor members may read the status.
CREATE ROLE regress_convoy_nobody;
CREATE ROLE regress_convoy_monitor IN ROLE pg_monitor;
SET ROLE regress_convoy_nobody;
SELECT count(*) FROM convoy_backup.convoy_backup_status();
RESET ROLE;
SET ROLE regress_convoy_monitor;
SELECT count(*) FROM convoy_backup.convoy_backup_status();
RESET ROLE;
DROP ROLE regress_convoy_nobody;
DROP ROLE regress_convoy_monitor;

-- The output plugin refuses unknown options and bad table lists.
SELECT 'init' FROM pg_create_logical_replication_slot('regress_api', 'convoy_backup');
SELECT data FROM pg_logical_slot_get_changes('regress_api', NULL, NULL, 'colour', 'blue');
SELECT data FROM pg_logical_slot_get_changes('regress_api', NULL, NULL, 'tables', 'no_schema');
SELECT pg_drop_replication_slot('regress_api');

DROP EXTENSION convoy_backup;
