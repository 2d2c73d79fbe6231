-- Dates and times: timestamptz always in UTC, infinities, BC dates, the
-- largest timestamps, times with and without zone, intervals.
\getenv abs_srcdir PG_ABS_SRCDIR
\i :abs_srcdir/sql/include/parity_setup.psql
CREATE TABLE parity.datetime (id int PRIMARY KEY, d date, t time, tz timetz, ts timestamp,
                              tstz timestamptz, iv interval, tsa timestamptz[],
                              r tstzrange);
INSERT INTO parity.datetime VALUES
    (1, '2026-11-25', '13:14:15.123456', '13:14:15+02', '2026-11-25 06:01:40.123456',
     '2026-11-25 06:01:40.123456+03', '1 year 2 mons 3 days 04:05:06.7',
     '{"2026-11-25 06:01:40+03","infinity"}', '[2026-01-01 00:00+00,2026-02-01 00:00+00)'),
    (2, 'infinity', '24:00', '00:00-12', '-infinity', 'infinity', '-1 day', '{}', 'empty'),
    (3, '0001-01-01 BC', NULL, NULL, NULL, '0044-03-15 12:00:00+00 BC', NULL, NULL, NULL),
    (4, '5874897-12-31', NULL, NULL, NULL, '294276-12-31 23:59:59.999999+00', NULL, NULL, NULL);
\set parity_table parity.datetime
\i :abs_srcdir/sql/include/parity_check.psql
