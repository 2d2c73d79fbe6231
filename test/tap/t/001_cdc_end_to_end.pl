
# Copyright (c) convoy_backup authors
#
# End to end: rows INSERTed into the configured tables are decoded by the cdc
# worker and written as gzip JSONL objects under convoy_backup.on_prem_path;
# every line equals to_jsonb(row) of the inserted row (timestamptz in UTC).
# UPDATEs, DELETEs, aborted (sub)transactions and unconfigured tables leave no
# trace. A small buffer (1 MB) forces early flushes and segmented transactions.
use strict;
use warnings;

use File::Find;
use File::Spec;
use Time::HiRes qw(usleep);
use Time::Local qw(timegm);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib "$FindBin::RealBin/..";
use ConvoyBackupTap qw(poll_until server_conf manifest_problems);

# Every wait in this test is bounded by 60 s of wall-clock time.
my $wait_secs = 60;
$PostgreSQL::Test::Utils::timeout_default = $wait_secs;
# The SQL below holds UTF-8 literals.
$ENV{PGCLIENTENCODING} = 'UTF8';

my $test_start = time();

my $storage    = PostgreSQL::Test::Utils::tempdir();

my $node = PostgreSQL::Test::Cluster->new('cdc_e2e');
$node->init(
	allows_streaming => 'logical',
	extra            => [ '--encoding=UTF8', '--locale=C' ]);
$node->append_conf(
	'postgresql.conf', server_conf() . qq{
shared_buffers = 32MB
# The worker must write timestamptz in UTC whatever the server's time zone is.
timezone = 'Asia/Kolkata'
convoy_backup.database = 'postgres'
convoy_backup.on_prem_path = '$storage'
convoy_backup.interval = '1s'
convoy_backup.buffer_size = '1MB'
convoy_backup.tables = 'convoy.events, "Mixed Case"."Events"'
});
$node->start;

# The worker creates its slot at start; rows committed before that are not
# backed up, so wait for it before writing anything.
ok( poll_until(
		$node,
		"SELECT count(*) = 1 FROM pg_replication_slots WHERE slot_name = 'convoy_backup' AND plugin = 'convoy_backup' AND slot_type = 'logical'"
	),
	'cdc worker created its logical slot');
$node->safe_psql('postgres', 'CREATE EXTENSION convoy_backup');

my $mixed = '"Mixed Case"."Events"';

$node->safe_psql(
	'postgres', q{
CREATE SCHEMA convoy;
CREATE TYPE convoy.mood AS ENUM ('sad', 'ok', 'happy');
CREATE TYPE convoy.pair AS (a int4, b text, at timestamptz);
CREATE DOMAIN convoy.posint AS int4 CHECK (VALUE > 0);
CREATE TABLE convoy.events (
    id int8 PRIMARY KEY,
    dropped_early text,
    t text,
    v varchar(64),
    ch char(5),
    b bool,
    s int2,
    i int4,
    r float4,
    f float8,
    n numeric,
    jb jsonb,
    js json,
    by bytea,
    d date,
    ts timestamp,
    tstz timestamptz,
    u uuid,
    ip inet,
    iv interval,
    ia int4[],
    ta text[],
    fa float8[],
    c convoy.pair,
    m convoy.mood,
    dm convoy.posint,
    big text
);
-- A dropped column must not show up in the objects.
ALTER TABLE convoy.events DROP COLUMN dropped_early;
CREATE SCHEMA "Mixed Case";
CREATE TABLE "Mixed Case"."Events" (
    "Id" int8 PRIMARY KEY,
    "Payload Text" text,
    "когда" timestamptz,
    tags text[]
);
CREATE TABLE public.noise (id int8, note text);
});

# --- Inserts -------------------------------------------------------------

# 1. Hand-written rows with edge values, in one transaction.
$node->safe_psql(
	'postgres', q{
INSERT INTO convoy.events (id) VALUES (1);
INSERT INTO convoy.events VALUES
 (2, E'tab\there "quote" \\\\ back \u00e9 \u2603 \x01', 'varchar ✓ ünï', 'ab', true,
  -32768, 2147483647, 'NaN', 'NaN', 'NaN',
  '{"k": [1, "two", null, true, {"n": 1.50}], "e": "\u00e9\n"}',
  E'{\n "a": [1, 2]\n}', '\x00ff10', '2024-02-29', '2024-02-29 23:59:59.999999',
  '2024-03-01 01:30:00.123456+05:30', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
  '192.168.1.0/24', '1 year 2 mons 3 days 04:05:06.789', '{{1,NULL},{3,4}}',
  ARRAY['a,b', 'c"d', NULL, 'é', E'line\nbreak'], '{1.5,NaN,Infinity,-Infinity}',
  ROW(1, 'x "y" \ z', '2020-01-01 00:00:00+00'), 'happy', 7, NULL),
 (3, '', '', '', false, 32767, -2147483648, 'Infinity', 'Infinity',
  '12345678901234567890.123456789012345678901234567890', '"scalar"', '[]', '',
  'infinity', '-infinity', 'infinity', '00000000-0000-0000-0000-000000000000', '::1',
  '-1 days -00:00:01', '{}', '{}', '{}', ROW(NULL, NULL, NULL), 'sad', 1, ''),
 (4, E'\r\n\b\f\u0007\u001f\u007f', 'x', 'abcde', NULL, 0, 0, '-Infinity', '-Infinity',
  '-Infinity', '{"a": {"b": {"c": [[], {}]}}}', '{"a": 1, "a": 2, "b": "x\ny"}',
  '\xdeadbeef', '0044-03-15 BC', '0044-03-15 12:00:00 BC', '-infinity',
  NULL, '2001:db8::/32', '0', '{{{1}}}', '{"{}", "\\\\"}', '{1e-310, -0, 1.7976931348623157e308}',
  ROW(-5, '', '1999-12-31 23:59:59.999999-12'), 'ok', 2147483647, NULL),
 (5, NULL, NULL, NULL, NULL, NULL, NULL, 0.1, 0.1,
  '-0.000000000000000000000000000001', '{"big": 123456789012345678901234567890.5}',
  '{"big": 123456789012345678901234567890.5, "esc": "\u00e9\ud83d\ude00"}', NULL,
  '1970-01-01', '1970-01-01 00:00:00', '1970-01-01 00:00:00+00', NULL, '10.1.2.3',
  '-178000000 years', '{NULL}', '{NULL,""}', '{NULL}', NULL, NULL, NULL, NULL);
INSERT INTO "Mixed Case"."Events" VALUES
 (1, 'first', '2025-06-01 12:00:00+02', '{a,b}'),
 (2, NULL, NULL, NULL),
 (3, E'quote " and \\\\ and \u2603', 'epoch', '{}');
INSERT INTO public.noise SELECT g, 'noise before ' || g FROM generate_series(1, 100) g;
});

# 2. One big transaction of 20000 rows: far more than the 1 MB buffer holds,
#    so it is written in segments.
$node->safe_psql(
	'postgres', q{
INSERT INTO convoy.events
SELECT g,
       md5(g::text) || repeat('x', g % 300),
       CASE WHEN g % 10 = 0 THEN NULL ELSE 'v' || g END,
       CASE WHEN g % 11 = 0 THEN NULL ELSE (g % 1000)::text END,
       CASE WHEN g % 12 = 0 THEN NULL ELSE g % 2 = 0 END,
       (g % 32767)::int2,
       g * 7,
       g / 3.0,
       g / 7.0,
       g * 1.0001,
       CASE WHEN g % 13 = 0 THEN NULL
            ELSE jsonb_build_object('g', g, 'arr', jsonb_build_array(g, g::text, g % 2 = 0)) END,
       CASE WHEN g % 14 = 0 THEN NULL ELSE ('{"g": ' || g || E',\n"h": "x\\\\ty"}')::json END,
       CASE WHEN g % 15 = 0 THEN NULL ELSE decode(md5(g::text), 'hex') END,
       date '2020-01-01' + g,
       timestamp '2020-01-01 00:00:00' + g * interval '1.25 second',
       timestamptz '2020-01-01 00:00:00+00' + g * interval '1 minute 1.5 second',
       md5(g::text)::uuid,
       ('10.0.' || (g / 256) % 256 || '.' || g % 256)::inet,
       g * interval '1 second',
       ARRAY[g::int4, NULL, -g::int4],
       ARRAY['t' || g, NULL],
       ARRAY[g / 3.0, 'NaN'::float8],
       ROW(g, 'p' || g, timestamptz '2021-06-01 00:00:00+00' + g * interval '1 hour')::convoy.pair,
       (ARRAY['sad', 'ok', 'happy'])[g % 3 + 1]::convoy.mood,
       CASE WHEN g % 16 = 0 THEN NULL ELSE g END,
       NULL
FROM generate_series(1001, 21000) g;
});

# 3. Multi-MB values: a 3 MB text and a 2 MB bytea, in separate transactions,
#    each with small rows of both tables around it.
my $big_text_len  = 3 * 1024 * 1024;
my $big_bytea_len = 2 * 1024 * 1024;
$node->safe_psql(
	'postgres', qq{
BEGIN;
INSERT INTO "Mixed Case"."Events" VALUES (100, 'before big text', now(), NULL);
INSERT INTO convoy.events (id, t, big)
SELECT 50001, 'big text row', string_agg(md5(random()::text), '')
FROM generate_series(1, $big_text_len / 32);
INSERT INTO "Mixed Case"."Events" VALUES (101, 'after big text', now(), '{x}');
COMMIT;
BEGIN;
INSERT INTO convoy.events (id, t) VALUES (50002, 'small before bytea');
INSERT INTO convoy.events (id, t, by)
SELECT 50003, 'big bytea row', decode(string_agg(md5(random()::text), ''), 'hex')
FROM generate_series(1, $big_bytea_len / 16);
INSERT INTO convoy.events (id, t) VALUES (50004, 'small after bytea');
COMMIT;
});

# 4. Small autocommit transactions, each its own commit.
$node->safe_psql('postgres', join("\n", map {
	  my $id = 30000 + $_;
	  "INSERT INTO convoy.events (id, t, tstz) VALUES ($id, 'single $_', now());\n"
	  . "INSERT INTO \"Mixed Case\".\"Events\" VALUES ($id, 'single $_', now(), ARRAY['s$_']);\n"
	  . "INSERT INTO public.noise VALUES ($id, 'noise single');"
} 1 .. 10));

# 5. One transaction touching both configured tables and the noise table.
$node->safe_psql(
	'postgres', q{
BEGIN;
INSERT INTO convoy.events (id, t, i, tstz)
SELECT g, 'both ' || g, g, now() FROM generate_series(40001, 40300) g;
INSERT INTO public.noise SELECT g, 'noise in mixed tx' FROM generate_series(40001, 40300) g;
INSERT INTO "Mixed Case"."Events"
SELECT g, 'both ' || g, now() - g * interval '1 day', ARRAY[g::text] FROM generate_series(40001, 40300) g;
COMMIT;
});

# 6. Rolled back work: nothing of it may be backed up.
$node->safe_psql(
	'postgres', q{
BEGIN;
INSERT INTO convoy.events (id, t) VALUES (45001, 'kept, before savepoint');
SAVEPOINT s1;
INSERT INTO convoy.events (id, t) VALUES (45002, 'rolled back to savepoint');
INSERT INTO "Mixed Case"."Events" VALUES (45002, 'rolled back to savepoint', NULL, NULL);
ROLLBACK TO SAVEPOINT s1;
SAVEPOINT s2;
INSERT INTO convoy.events (id, t) VALUES (45003, 'kept, released subtransaction');
RELEASE SAVEPOINT s2;
COMMIT;
BEGIN;
INSERT INTO convoy.events (id, t) VALUES (45004, 'rolled back transaction');
INSERT INTO "Mixed Case"."Events" VALUES (45004, 'rolled back transaction', NULL, NULL);
ROLLBACK;
});

# 7. COPY (multi-insert WAL records) into both tables.
my $csv_dir    = PostgreSQL::Test::Utils::tempdir();
my $csv_events = "$csv_dir/copy_events.csv";
my $csv_mixed  = "$csv_dir/copy_mixed.csv";
{
	open my $fh, '>', $csv_events or die "could not write $csv_events: $!";
	print $fh join(',', 46000 + $_, "\"copy \"\"row\"\" $_\"", $_ % 2 ? 'true' : 'false',
		sprintf('2022-01-01 %02d:%02d:%02d+03', $_ / 3600, ($_ / 60) % 60, $_ % 60))
	  . "\n"
	  for (0 .. 499);
	close $fh;
	open $fh, '>', $csv_mixed or die "could not write $csv_mixed: $!";
	print $fh join(',', 46000 + $_, "copy mixed $_", '"{c,o,p,y}"') . "\n" for (0 .. 199);
	close $fh;
}
chmod 0644, $csv_events, $csv_mixed;
$node->safe_psql(
	'postgres', qq{
COPY convoy.events (id, t, b, tstz) FROM '$csv_events' WITH (FORMAT csv);
COPY "Mixed Case"."Events" ("Id", "Payload Text", tags) FROM '$csv_mixed' WITH (FORMAT csv);
});

# 8. INSERT ... ON CONFLICT: a new row is an insert, a conflict with DO NOTHING is nothing.
$node->safe_psql(
	'postgres', q{
INSERT INTO convoy.events (id, t) VALUES (47001, 'upsert inserted') ON CONFLICT (id) DO NOTHING;
INSERT INTO convoy.events (id, t) VALUES (2, 'conflict, nothing') ON CONFLICT (id) DO NOTHING;
});

my $lsn_after_inserts =
  $node->safe_psql('postgres', 'SELECT pg_current_wal_lsn()');

# --- Expected content, before updates and deletes change the tables --------
$node->safe_psql(
	'postgres', qq{
SET timezone = 'UTC';
CREATE TABLE expected AS
  SELECT 'convoy.events'::text AS tbl, to_jsonb(e) AS j FROM convoy.events e
  UNION ALL
  SELECT '$mixed'::text, to_jsonb(m) FROM "Mixed Case"."Events" m;
});
my $expected_events = $node->safe_psql('postgres',
	"SELECT count(*) FROM expected WHERE tbl = 'convoy.events'");
my $expected_mixed = $node->safe_psql('postgres',
	"SELECT count(*) FROM expected WHERE tbl = '$mixed'");
is($expected_events, 1 + 4 + 20000 + 4 + 10 + 300 + 2 + 500 + 1,
	'all convoy.events rows inserted');
is($expected_mixed, 3 + 2 + 10 + 300 + 200, 'all mixed-case rows inserted');

# --- Changes that must not be backed up -----------------------------------
$node->safe_psql(
	'postgres', q{
UPDATE convoy.events SET t = 'updated', big = 'updated' WHERE id < 100 OR id = 50001;
UPDATE convoy.events SET i = -1 WHERE id BETWEEN 1001 AND 1500;
DELETE FROM convoy.events WHERE id BETWEEN 2000 AND 2100;
INSERT INTO convoy.events (id, t) VALUES (3, 'conflict, update') ON CONFLICT (id) DO UPDATE SET t = 'upserted';
UPDATE "Mixed Case"."Events" SET "Payload Text" = 'updated' WHERE "Id" < 50;
DELETE FROM "Mixed Case"."Events" WHERE "Id" BETWEEN 40001 AND 40010;
INSERT INTO public.noise SELECT g, 'noise after' FROM generate_series(1, 1000) g;
TRUNCATE public.noise;
INSERT INTO public.noise VALUES (-1, 'noise after truncate');
});

# --- Wait for the worker --------------------------------------------------
ok( poll_until(
		$node, qq{
SELECT count(*) = 3 AND bool_and(s.buffered_rows = 0 AND s.rows_written = e.n)
FROM convoy_backup.convoy_backup_status() s
JOIN (SELECT tbl, count(*) AS n FROM expected GROUP BY tbl
      UNION ALL SELECT 'worker', count(*) FROM expected) e ON e.tbl = s.scope
}),
	'status: every inserted row written, nothing buffered');
ok( poll_until(
		$node,
		"SELECT confirmed_lsn >= '$lsn_after_inserts' FROM convoy_backup.convoy_backup_status() WHERE scope = 'worker'"
	),
	'slot confirmed past the last insert');

my $status = $node->safe_psql(
	'postgres', q{
SELECT scope, coalesce(slot_name, '-'), buffered_rows, buffered_bytes, rows_written,
       objects_written, last_flush IS NOT NULL, coalesce(last_error, '-')
FROM convoy_backup.convoy_backup_status() ORDER BY scope <> 'worker', scope});
note "status:\n$status";
my %objects_in_status;
for my $line (split /\n/, $status)
{
	my @f = split /\|/, $line;
	$objects_in_status{ $f[0] } = $f[5];
	is($f[3], 0, "status $f[0]: buffered_bytes = 0");
	is($f[6], 't', "status $f[0]: last_flush set");
	is($f[7], '-', "status $f[0]: no last_error");
}
like($status, qr/^worker\|convoy_backup\|/, 'status worker row names the slot');

# --- Read the objects back ------------------------------------------------
my (@objects, @temps, @manifests);
find(
	{
		no_chdir => 1,
		wanted   => sub {
			return unless -f $_;
			my $rel = File::Spec->abs2rel($_, $storage);
			my $base = (File::Spec->splitpath($_))[2];
			if    ($base =~ /^\..*\.tmp$/)         { push @temps, $rel; }
			elsif ($base =~ /\.manifest\.json$/)   { push @manifests, $rel; }
			else                                   { push @objects, $rel; }
		}
	},
	$storage);
is(scalar(@temps), 0, 'no temporary files left behind')
  or diag join("\n", @temps);
# Each object has its manifest, which describes it exactly (docs/catalog.md).
my ($manifest_problems, $manifest_of) = manifest_problems($storage);
is_deeply($manifest_problems, [], 'every object has a manifest that describes it');
is(scalar(@manifests), scalar(@objects), 'one manifest per object');
my @tables_of_keys;
for my $rel (@objects)
{
	my ($table) = $rel =~ m{^backup/[^/]+/([^/]+)/} or next;
	$table =~ s/%([0-9A-F]{2})/chr(hex($1))/ge;
	push @tables_of_keys, $table;
}
is_deeply([ sort map { $_->{table} } values %$manifest_of ], [ sort @tables_of_keys ],
	'manifests name each object\'s table, "Mixed Case"."Events" as configured');

my $key_re = qr{^backup/(\d{4}-\d{2}-\d{2})/([A-Za-z0-9_.%-]+)/(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\.(\d{6})Z_([0-9A-F]{16})(?:_(\d{20}))?\.jsonl\.gz$};
my $now_lsn = $node->safe_psql('postgres', 'SELECT pg_current_wal_lsn()');
my ($hi, $lo) = split m{/}, $now_lsn;
my $now_lsn_num = hex($hi) * 2**32 + hex($lo);
my $bad_keys = 0;
my %object_info;    # rel path => { table, group, n }
for my $rel (sort @objects)
{
	if ($rel !~ $key_re)
	{
		$bad_keys++;
		diag "object key does not match the layout: $rel";
		next;
	}
	my ($date_dir, $enc_table, $y, $mo, $d, $h, $mi, $s, $us, $lsn, $n) =
	  ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11);
	my $table = $enc_table;
	$table =~ s/%([0-9A-F]{2})/chr(hex($1))/ge;
	my $epoch = timegm($s, $mi, $h, $d, $mo - 1, $y);
	my $lsn_num = hex(substr($lsn, 0, 8)) * 2**32 + hex(substr($lsn, 8));
	if (   $date_dir ne "$y-$mo-$d"
		|| $epoch < $test_start - 5
		|| $epoch > time() + 5
		|| $lsn_num == 0
		|| $lsn_num > $now_lsn_num
		|| ($table ne 'convoy.events' && $table ne $mixed))
	{
		$bad_keys++;
		diag "object key has a wrong date, time, LSN or table: $rel";
		next;
	}
	$object_info{$rel} =
	  { table => $table, group => "$table $y$mo$d$h$mi$s$us $lsn", n => $n // 0 };
}
cmp_ok(scalar(@objects), '>', 0, 'objects were written');
is($bad_keys, 0, 'every object key follows backup/{date}/{table}/{time}_{lsn}[_{n}].jsonl.gz');

my %objects_per_table;
$objects_per_table{ $_->{table} }++ for values %object_info;
is(scalar(@objects), $objects_in_status{worker},
	'number of objects equals objects_written of the worker');
is($objects_per_table{'convoy.events'} // 0,
	$objects_in_status{'convoy.events'}, 'objects of convoy.events match status');
is($objects_per_table{$mixed} // 0, $objects_in_status{$mixed},
	'objects of the mixed-case table match status');

my $load = q{
CREATE TABLE stage (seq bigint GENERATED ALWAYS AS IDENTITY, line text);
CREATE TABLE got (tbl text, file text, seq bigint, j jsonb);
};
for my $rel (sort keys %object_info)
{
	my $path = "$storage/$rel";
	die "unexpected quote in $path" if $path =~ /'/;
	(my $tbl_sql = $object_info{$rel}{table}) =~ s/'/''/g;
	$load .= qq{
COPY stage (line) FROM PROGRAM 'gzip -dc ''$path''' WITH (FORMAT csv, QUOTE E'\\x01', DELIMITER E'\\x02');
INSERT INTO got SELECT '$tbl_sql', '$rel', seq, line::jsonb FROM stage;
TRUNCATE stage;
};
}
$node->safe_psql('postgres', $load);

# The exact multiset: nothing missing, nothing extra, no duplicates.
is( $node->safe_psql(
		'postgres', q{
SELECT count(*) FROM (SELECT tbl, j FROM expected EXCEPT ALL SELECT tbl, j FROM got) x}),
	0,
	'every expected row is in the objects');
is( $node->safe_psql(
		'postgres', q{
SELECT count(*) FROM (SELECT tbl, j FROM got EXCEPT ALL SELECT tbl, j FROM expected) x}),
	0,
	'the objects hold nothing but the expected rows');
is($node->safe_psql('postgres', 'SELECT count(*) FROM got'),
	$expected_events + $expected_mixed, 'line count equals inserted row count');
my $mismatch = $node->safe_psql(
	'postgres', q{
(SELECT 'missing', tbl, j::text FROM expected EXCEPT ALL SELECT 'missing', tbl, j::text FROM got LIMIT 3)
UNION ALL
(SELECT 'extra', tbl, j::text FROM got EXCEPT ALL SELECT 'extra', tbl, j::text FROM expected LIMIT 3)});
diag "first differences:\n" . substr($mismatch, 0, 4000) if $mismatch ne '';

is( $node->safe_psql(
		'postgres', q{
SELECT count(*) FROM got
WHERE j->>'note' LIKE 'noise%' OR j::text LIKE '%noise%' OR j->>'t' IN ('updated', 'upserted')
   OR j->>'Payload Text' = 'updated'}),
	0,
	'no noise rows and no updated values in the objects');
is( $node->safe_psql(
		'postgres',
		q{SELECT count(*) FROM got WHERE (j->>'id')::int8 IN (45002, 45004) OR (j->>'Id')::int8 IN (45002, 45004)}
	),
	0,
	'rolled back rows are not in the objects');
is( $node->safe_psql(
		'postgres',
		q{SELECT string_agg(j->>'id', ',' ORDER BY (j->>'id')::int8) FROM got WHERE (j->>'id')::int8 IN (45001, 45003, 47001)}
	),
	'45001,45003,47001',
	'committed rows around savepoints and the upsert insert are in the objects');
is( $node->safe_psql(
		'postgres', q{SELECT count(*) FROM got WHERE tbl = 'convoy.events' AND j ? 'dropped_early'}),
	0,
	'dropped column is not written');

# Multi-MB values arrived complete.
is( $node->safe_psql(
		'postgres', q{SELECT length(j->>'big') FROM got WHERE j->>'id' = '50001'}),
	$big_text_len,
	'3 MB text value complete');
is( $node->safe_psql(
		'postgres',
		q{SELECT (SELECT j->>'big' FROM got WHERE j->>'id' = '50001') = (SELECT j->>'big' FROM expected WHERE j->>'id' = '50001')}
	),
	't',
	'3 MB text value identical');
is( $node->safe_psql(
		'postgres', q{SELECT length(j->>'by') FROM got WHERE j->>'id' = '50003'}),
	2 + 2 * $big_bytea_len,
	'2 MB bytea value complete (\\x + hex)');

# Spot checks of the encoding, beyond jsonb equality.
is( $node->safe_psql(
		'postgres',
		q{SELECT j->>'t' = E'tab\there "quote" \\\\ back \u00e9 \u2603 \x01' FROM got WHERE j->>'id' = '2'}
	),
	't',
	'control and unicode characters round-trip');
is( $node->safe_psql(
		'postgres',
		q{SELECT jsonb_build_array(j->'tstz', j->'c'->'at') FROM got WHERE j->>'id' = '2'}),
	'["2024-02-29T20:00:00.123456+00:00", "2020-01-01T00:00:00+00:00"]',
	'timestamptz written in UTC, also inside a composite');
is( $node->safe_psql(
		'postgres',
		q{SELECT jsonb_build_array(j->'f', j->'n', j->'r') FROM got WHERE j->>'id' = '2'}),
	'["NaN", "NaN", "NaN"]',
	'NaN written as strings');
is( $node->safe_psql(
		'postgres', q{SELECT j->'js' FROM got WHERE j->>'id' = '2'}),
	'{"a": [1, 2]}',
	'json with a newline inside stays one line and one value');
is( $node->safe_psql(
		'postgres', q{SELECT j->'ia' FROM got WHERE j->>'id' = '2'}),
	'[[1, null], [3, 4]]',
	'2-D int[] with NULL elements');
is( $node->safe_psql(
		'postgres', q{SELECT j->'tstz' FROM got WHERE j->>'id' = '3'}),
	'"infinity"',
	'timestamptz infinity');

# Segments: objects of one transaction share time and LSN; the suffix is the
# index of the first row, i.e. the sum of the lines of the segments before.
my %lines_in;
for my $row (split /\n/,
	$node->safe_psql('postgres', 'SELECT file, count(*) FROM got GROUP BY file'))
{
	my ($f, $c) = split /\|/, $row;
	$lines_in{$f} = $c;
}
my %groups;
push @{ $groups{ $object_info{$_}{group} } }, $_ for keys %object_info;
my $bad_groups = 0;
my $segmented_groups = 0;
for my $g (keys %groups)
{
	my @files = sort { $object_info{$a}{n} <=> $object_info{$b}{n} } @{ $groups{$g} };
	$segmented_groups++ if @files > 1;
	my $next = 0;
	for my $f (@files)
	{
		if ($object_info{$f}{n} != $next)
		{
			$bad_groups++;
			diag "segment $f starts at row $object_info{$f}{n}, expected $next";
			last;
		}
		$next += $lines_in{$f} // 0;
	}
}
cmp_ok($segmented_groups, '>=', 1, 'the big transaction was written in segments');
is($bad_groups, 0, 'segment suffixes count the rows of the segments before them');

# The 20000-row transaction: one group, in insert order across its segments.
my $big_tx = $node->safe_psql(
	'postgres', q{
SELECT count(DISTINCT file), min((j->>'id')::int8), max((j->>'id')::int8), count(*)
FROM got WHERE (j->>'id')::int8 BETWEEN 1001 AND 21000});
my @big_files = split /\n/, $node->safe_psql(
	'postgres', q{
SELECT DISTINCT file FROM got WHERE (j->>'id')::int8 BETWEEN 1001 AND 21000});
my %big_groups = map { $object_info{$_}{group} => 1 } @big_files;
is(scalar(keys %big_groups), 1, 'the 20000-row transaction has one time and LSN');
like($big_tx, qr/^\d+\|1001\|21000\|20000$/, 'the 20000-row transaction is complete');
cmp_ok((split /\|/, $big_tx)[0], '>', 1, 'the 20000-row transaction spans several objects');
my %n_of = map { $_ => $object_info{$_}{n} } @big_files;
my $order_sql = join(' UNION ALL ',
	map { "SELECT '$_'::text AS file, $n_of{$_}::int8 AS n" } @big_files);
is( $node->safe_psql(
		'postgres', qq{
SELECT count(*) FROM (
  SELECT (j->>'id')::int8 AS id,
         row_number() OVER (ORDER BY o.n, g.seq) AS pos
  FROM got g JOIN ($order_sql) o USING (file)
  WHERE (j->>'id')::int8 BETWEEN 1001 AND 21000) x
WHERE id <> 1000 + pos}),
	0,
	'segments hold the rows in insert order');

# Nothing of the unconfigured table anywhere in the storage tree.
my @noise_paths;
find(sub { push @noise_paths, $File::Find::name if /noise/ }, $storage);
is(scalar(@noise_paths), 0, 'no object or directory for public.noise');

my $log = slurp_file($node->logfile);
unlike($log, qr/terminated by signal/, 'no server process crashed');
unlike($log, qr/could not write backup object/, 'no write errors');
like($log, qr/convoy_backup created logical replication slot "convoy_backup"/,
	'log reports the slot creation');

$node->stop('fast');
done_testing();
