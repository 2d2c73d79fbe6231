-- convoy_backup.* settings: defaults, contexts and rejected values.
SELECT name, setting, unit, context, vartype, boot_val
  FROM pg_settings WHERE name LIKE 'convoy_backup.%' AND name <> 'convoy_backup.failover'
  ORDER BY name;
-- failover: on where the server has failover slots (17+), off elsewhere, where
-- turning it on is refused (TAP 017 checks both).
SELECT context, vartype, setting = boot_val AS is_default,
       boot_val = CASE WHEN current_setting('server_version_num')::int >= 170000
                       THEN 'on' ELSE 'off' END AS on_where_supported
  FROM pg_settings WHERE name = 'convoy_backup.failover';

-- Reload-only settings cannot be changed in a session.
SET convoy_backup.interval = '5s';
SET convoy_backup.tables = 'public.t';

-- Check hooks reject bad values with PostgreSQL-style messages.
ALTER SYSTEM SET convoy_backup.tables = 'events';
ALTER SYSTEM SET convoy_backup.tables = 'convoy.events, convoy.events';
ALTER SYSTEM SET convoy_backup.tables = 'a.b.c';
ALTER SYSTEM SET convoy_backup.tables = 'convoy.events,';
ALTER SYSTEM SET convoy_backup.tables = 'convoy."events';
ALTER SYSTEM SET convoy_backup.tables = 'convoy.""';
ALTER SYSTEM SET convoy_backup.slot_name = 'Bad-Name';
ALTER SYSTEM SET convoy_backup.slot_name = '';
ALTER SYSTEM SET convoy_backup.on_prem_path = 'relative/dir';
ALTER SYSTEM SET convoy_backup.mode = 'sometimes';
ALTER SYSTEM SET convoy_backup.storage = 'tape';
ALTER SYSTEM SET convoy_backup.database = '';
-- Out of range: PostgreSQL's own message, whose wording differs between
-- majors (its SQLSTATE does not), so only the SQLSTATE is shown; the ranges:
SELECT name, min_val, max_val, unit FROM pg_settings
 WHERE name IN ('convoy_backup.interval', 'convoy_backup.buffer_size') ORDER BY name;
\set VERBOSITY sqlstate
ALTER SYSTEM SET convoy_backup.interval = '0';
ALTER SYSTEM SET convoy_backup.interval = '8d';
ALTER SYSTEM SET convoy_backup.buffer_size = '100kB';
\set VERBOSITY default
-- The prefix is reserved: a misspelt setting is an error, not a placeholder.
-- (SET, because ALTER SYSTEM refuses every unknown name on 15, reserved or not.)
SET convoy_backup.intervall = '5s';

-- Good values are accepted (and put back).
ALTER SYSTEM SET convoy_backup.tables = 'convoy.events, "Mixed Case"."Tbl", public.x';
ALTER SYSTEM SET convoy_backup.interval = '90min';
ALTER SYSTEM SET convoy_backup.on_prem_path = '/var/backups/convoy';
ALTER SYSTEM RESET convoy_backup.tables;
ALTER SYSTEM RESET convoy_backup.interval;
ALTER SYSTEM RESET convoy_backup.on_prem_path;

-- Storage secrets: set only by superusers, listed nowhere, shown as "(set)".
SELECT count(*) AS secrets_in_pg_settings FROM pg_settings
 WHERE name IN ('convoy_backup.s3_secret_key', 'convoy_backup.s3_session_token',
                'convoy_backup.azure_account_key', 'convoy_backup.azure_sas_token');
ALTER SYSTEM SET convoy_backup.s3_secret_key = 'regress-not-a-real-secret';
SELECT pg_reload_conf();
SELECT pg_sleep(0.5);
SHOW convoy_backup.s3_secret_key;
SHOW convoy_backup.azure_sas_token;
CREATE ROLE regress_convoy_reader;
SET ROLE regress_convoy_reader;
-- insufficient_privilege (PostgreSQL's message differs between majors)
\set VERBOSITY sqlstate
SHOW convoy_backup.s3_secret_key;
SELECT current_setting('convoy_backup.azure_account_key');
\set VERBOSITY default
RESET ROLE;
DROP ROLE regress_convoy_reader;
ALTER SYSTEM RESET convoy_backup.s3_secret_key;
SELECT pg_reload_conf();
-- Storage kinds and sizes are checked too.
ALTER SYSTEM SET convoy_backup.storage = 'gcs';
SELECT name, min_val, max_val, unit FROM pg_settings WHERE name = 'convoy_backup.s3_part_size';
\set VERBOSITY sqlstate
ALTER SYSTEM SET convoy_backup.s3_part_size = '1MB';
\set VERBOSITY default
-- Store names and URLs are checked when set, not at the first write.
ALTER SYSTEM SET convoy_backup.s3_bucket = 'my bucket';
ALTER SYSTEM SET convoy_backup.s3_endpoint = 'ftp://127.0.0.1:9000';
ALTER SYSTEM SET convoy_backup.s3_prefix = 'a/../b';
ALTER SYSTEM SET convoy_backup.azure_account_name = 'Account';
ALTER SYSTEM SET convoy_backup.azure_container = 'ab';
ALTER SYSTEM SET convoy_backup.azure_endpoint = 'not a url';
ALTER SYSTEM SET convoy_backup.azure_prefix = '../x';
-- Valid ones are accepted (and reset again).
ALTER SYSTEM SET convoy_backup.s3_bucket = 'convoy-backups';
ALTER SYSTEM SET convoy_backup.s3_endpoint = 'http://127.0.0.1:9000';
ALTER SYSTEM SET convoy_backup.azure_container = 'backups';
ALTER SYSTEM RESET convoy_backup.s3_bucket;
ALTER SYSTEM RESET convoy_backup.s3_endpoint;
ALTER SYSTEM RESET convoy_backup.azure_container;
