-- convoy_backup.* settings: defaults, contexts and rejected values.
SELECT name, setting, unit, context, vartype, boot_val
  FROM pg_settings WHERE name LIKE 'convoy_backup.%' ORDER BY name;

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
ALTER SYSTEM SET convoy_backup.interval = '0';
ALTER SYSTEM SET convoy_backup.interval = '8d';
ALTER SYSTEM SET convoy_backup.mode = 'sometimes';
ALTER SYSTEM SET convoy_backup.storage = 'tape';
ALTER SYSTEM SET convoy_backup.buffer_size = '100kB';
ALTER SYSTEM SET convoy_backup.database = '';
-- The prefix is reserved: a misspelt setting is an error, not a placeholder.
ALTER SYSTEM SET convoy_backup.intervall = '5s';

-- Good values are accepted (and put back).
ALTER SYSTEM SET convoy_backup.tables = 'convoy.events, "Mixed Case"."Tbl", public.x';
ALTER SYSTEM SET convoy_backup.interval = '90min';
ALTER SYSTEM SET convoy_backup.on_prem_path = '/var/backups/convoy';
ALTER SYSTEM RESET convoy_backup.tables;
ALTER SYSTEM RESET convoy_backup.interval;
ALTER SYSTEM RESET convoy_backup.on_prem_path;
