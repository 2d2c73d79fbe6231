
# Copyright (c) convoy_backup authors
#
# docs/archive-analytics.md works on objects the extension wrote: the example
# table, the DuckDB view and the deduplicating view are taken from the page
# (the code blocks after "<!-- tested: NAME -->"), with only the storage path
# changed, and run by DuckDB (@duckdb/node-api, through
# test/e2e/storage/duckdb-query.js) over a cdc node's on_prem objects:
#
# - rows with edge values of every type of the example table, and 2000 more in
#   one transaction (an object of over 2 MiB of JSON, so of several gzip
#   members), read back equal to PostgreSQL's, column by column and row by row
#   (bytea decoded), with equal counts and sums;
# - an export of a window over some of the rows overlaps the cdc objects: the
#   view holds those rows twice, the deduplicating view once, from the cdc
#   copy; an empty export window adds an object without lines;
# - a manifest and a temporary file next to the objects are not read;
# - object_date is the commit date for cdc objects (not created_at) and the
#   window's date for export objects, and a filter on it skips objects;
# - the page's other DuckDB examples run.
#
# node and test/e2e/storage/node_modules come from ./scripts/test; without
# them this test fails.
use strict;
use warnings;

use Cwd qw(abs_path);
use File::Basename qw(dirname);
use File::Path qw(make_path);
use IO::Uncompress::Gunzip qw(gunzip $GunzipError);
use IPC::Run;
use JSON::PP;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib "$FindBin::RealBin/..";
use ConvoyBackupTap qw(poll_until server_conf object_files);

my $wait_secs = 60;
$PostgreSQL::Test::Utils::timeout_default = $wait_secs;
# The SQL below holds UTF-8 literals.
$ENV{PGCLIENTENCODING} = 'UTF8';

my $e2e    = abs_path("$FindBin::RealBin/../../e2e/storage");
my $doc    = abs_path("$FindBin::RealBin/../../../docs/archive-analytics.md");
my $work   = PostgreSQL::Test::Utils::tempdir();
my $json   = JSON::PP->new->utf8->canonical;
# The on_prem path the page's examples use; the test puts its own in its place.
my $doc_path = '/var/lib/convoy_backup';

# --- prerequisites: missing DuckDB is a failure, not a skip ---------------------

{
	my ($out, $err) = ('', '');
	my $node_ok =
	  eval { IPC::Run::run([ 'node', '--version' ], '<', \undef, '>', \$out, '2>', \$err) };
	my @missing;
	push @missing, 'node (not on PATH)' unless $node_ok;
	push @missing, "$e2e/node_modules/\@duckdb/node-api"
	  unless -e "$e2e/node_modules/\@duckdb/node-api/package.json";
	if (@missing)
	{
		fail('node and @duckdb/node-api are installed');
		diag "missing: $_" for @missing;
		diag 'run ./scripts/test (or npm ci --prefix test/e2e/storage) to install them';
		done_testing();
		exit 1;
	}
}

# The code block after "<!-- tested: $name -->" on the page (all of them, in
# order, in list context).
sub doc_blocks
{
	my ($name) = @_;
	my @blocks = slurp_file($doc) =~ /^<!-- tested: \Q$name\E -->\n```sql\n(.*?)^```$/msg;
	die "no block \"$name\" in $doc" unless @blocks;
	return @blocks;
}

# The page's DuckDB statements for this test's storage: the view and the
# deduplicating view, with the path as the only change.
sub duckdb_setup
{
	my ($storage) = @_;
	my ($view)  = doc_blocks('duckdb-local');
	my ($dedup) = doc_blocks('duckdb-dedup');
	my $paths = () = $view =~ /\Q$doc_path\E/g;
	is($paths, 1, 'the view reads one path, the documented on_prem path');
	$view =~ s/\Q$doc_path\E/$storage/;
	my $file = "$work/setup.sql";
	open my $fh, '>', $file or die "$file: $!";
	print $fh "$view\n$dedup\n";
	close $fh;
	return $file;
}

# Runs the setup file and @queries in DuckDB: (exit code, [rows of each query],
# stderr, [each query's rows as the JSON text node printed]). The text goes to
# PostgreSQL as it is: decoded and encoded again by Perl, a DOUBLE would keep
# only 15 digits.
sub duckdb
{
	my ($setup, @queries) = @_;
	my ($out, $err) = ('', '');
	IPC::Run::run([ 'node', "$e2e/duckdb-query.js", $setup, @queries ],
		'<', \undef, '>', \$out, '2>', \$err,
		IPC::Run::timeout($wait_secs));
	my $rc = $? >> 8;
	return ($rc, [], $err, []) if $rc != 0;
	my @lines = split /\n/, $out;
	return ($rc, [ map { $json->decode($_) } @lines ], $err, \@lines);
}

# --- a cdc node with the page's example table ------------------------------------

my $storage = PostgreSQL::Test::Utils::tempdir();
my $node = PostgreSQL::Test::Cluster->new('duckdb');
$node->init(
	allows_streaming => 'logical',
	extra            => [ '--encoding=UTF8', '--locale=C' ]);
$node->append_conf(
	'postgresql.conf', server_conf() . qq{
# The objects must hold timestamptz in UTC whatever the server's time zone is.
timezone = 'Asia/Kolkata'
convoy_backup.database = 'postgres'
convoy_backup.on_prem_path = '$storage'
convoy_backup.interval = '1s'
convoy_backup.tables = 'convoy.events'
});
$node->start;
ok(poll_until($node, "SELECT count(*) = 1 FROM pg_replication_slots WHERE slot_name = 'convoy_backup'"),
	'cdc worker created its slot');

my ($table_sql) = doc_blocks('duckdb-table');
$node->safe_psql('postgres', "CREATE EXTENSION convoy_backup; CREATE SCHEMA convoy;\n$table_sql");

my $test_day = $node->safe_psql('postgres', "SELECT (now() AT TIME ZONE 'UTC')::date");

# Edge values, created (by the client) on 2026-01-01 so that an export of that
# hour overlaps them; committed today, so their cdc objects are dated today.
$node->safe_psql(
	'postgres', q{
INSERT INTO convoy.events VALUES
 (1, 'all nullable columns NULL', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
  '2026-01-01 00:00:01+00', NULL),
 (2, E'quote " back \\\\ slash\nline two\ttab é ☃ 😀 \u2028 end',
  'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
  '{"k": [1, "two", null, true, {"n": 1.5}], "e": "é\n\"q\"", "empty": {}, "big": 12345678901234567}',
  '\x00ff10000a5c22', 9999999999.99, 12345678901234567890.123456789012345678901234567890,
  1e-300, 2147483647, ARRAY['a', NULL, 'c"d', '', 'ü'], true,
  '2026-01-01 00:00:02.123456+00', '2026-01-01 05:30:02.5+05:30'),
 (3, 'NaN and empty values', '00000000-0000-0000-0000-000000000000', '[]', '\x',
  -0.01, 'NaN', 'NaN', -2147483648, '{}', false, '2026-01-01 00:00:03+00', 'infinity'),
 (4, 'infinities', NULL, '"a lone string"', '\xff', 0, 'Infinity', '-Infinity', 0,
  ARRAY[NULL]::text[], NULL, '2026-01-01 00:59:59.999999+00', '-infinity'),
 (5, 'json null and tiny numbers', NULL, 'null', '\x00', 0.10,
  0.000000000000000000000000000001234567890123456789, -0.0, 1, ARRAY['x'], true,
  '2026-01-01 00:30:00+00', NULL),
 (9223372036854775807, 'largest bigint', NULL, '{"nested": {"deeper": [[], [{}]]}}', NULL,
  -9999999999.99, -1e300, 1.7976931348623157e308, NULL, NULL, NULL,
  '2026-01-01 00:00:05+00', NULL),
 (-9223372036854775808, 'smallest bigint', NULL, NULL, NULL, 1234567890.12, 1e300,
  5e-324, NULL, NULL, NULL, '2026-01-01 00:00:06+00', NULL),
 (9007199254740993, '2^53 + 1', NULL, NULL, NULL, 0.01, 2.5, 0.1, NULL, NULL, NULL,
  '2026-01-01 00:00:07+00', NULL);
});
my $backdated = 8;

# 2000 rows in one transaction, created now: over 2 MiB of JSON in one object.
$node->safe_psql(
	'postgres', q{
INSERT INTO convoy.events
SELECT i, 'type-' || i % 5, md5(i::text)::uuid,
       jsonb_build_object('i', i, 'h', md5(i::text), 'tags', jsonb_build_array(i % 3, 'x')),
       decode(repeat(md5(i::text), 40), 'hex'),
       (i * 1.01)::numeric(12,2), i / 7.0, i * 0.25, i % 7,
       ARRAY['t' || i % 3, NULL], i % 2 = 0, now(),
       CASE WHEN i % 2 = 0 THEN now() + i * interval '1 ms' END
FROM generate_series(1000, 2999) AS i;
});
my $total = $node->safe_psql('postgres', 'SELECT count(*) FROM convoy.events');
is($total, 2000 + $backdated, 'rows inserted');

my $lsn = $node->safe_psql('postgres', 'SELECT pg_current_wal_lsn()');
ok( poll_until(
		$node,
		"SELECT confirmed_lsn >= '$lsn' FROM convoy_backup.convoy_backup_status() WHERE scope = 'worker'"),
	'cdc objects are written');

# The hour of the backdated rows, exported: its object overlaps the cdc ones.
# The next hour has no rows: its object has no lines.
is( $node->safe_psql(
		'postgres',
		"SELECT rows FROM convoy_backup.convoy_backup_export('2026-01-01 00:00+00', '2026-01-01 01:00+00')"),
	$backdated,
	'the export of 2026-01-01 00:00 holds the backdated rows');
is( $node->safe_psql(
		'postgres',
		"SELECT rows FROM convoy_backup.convoy_backup_export('2026-01-01 01:00+00', '2026-01-01 02:00+00')"),
	0,
	'the export of 2026-01-01 01:00 holds no row');

my @objects = object_files($storage);
my @exports = grep { m{_export_[^/]*$} } @objects;
is(scalar @exports, 2, 'two export objects');
ok(scalar(@objects) > 2, 'and cdc objects');

# Over 2 MiB of JSON: an object of several gzip members.
my $largest = 0;
for my $file (@objects)
{
	my $text;
	gunzip($file => \$text, MultiStream => 1) or die "gunzip $file: $GunzipError";
	$largest = length $text if length $text > $largest;
}
cmp_ok($largest, '>', 2 * 1024 * 1024, 'one object holds over 2 MiB of JSON (several gzip members)');

# Files that are no objects, next to one: the glob must leave them out (a
# manifest read as JSON would be a row of NULLs).
(my $manifest = $objects[0]) =~ s/\.jsonl\.gz$/.manifest.json/;
PostgreSQL::Test::Utils::append_to_file($manifest,
	qq({"format":1,"key":"x","table":"convoy.events","rows":1}\n));
PostgreSQL::Test::Utils::append_to_file(dirname($objects[0]) . '/.convoy-1-1.tmp', "not gzip\n");

# --- DuckDB reads what PostgreSQL has ----------------------------------------------

my $setup = duckdb_setup($storage);
my ($rc, $res, $err, $raw) = duckdb(
	$setup,
	# copies of rows in the view, in the deduplicated view, in export objects
	q{SELECT (SELECT count(*) FROM events) AS all_copies,
	         (SELECT count(*) FROM events_once) AS once,
	         (SELECT count(*) FROM events WHERE regexp_matches(filename, '_export_[^/]*$')) AS in_export},
	# aggregates over the deduplicated view
	q{SELECT count(*) AS n, count(DISTINCT id) AS ids, sum(id)::VARCHAR AS id_sum,
	         sum(amount)::VARCHAR AS amount_sum, sum(attempts)::VARCHAR AS attempts_sum,
	         sum(octet_length(data))::VARCHAR AS data_bytes, count(data) AS data_n,
	         count(headers) AS headers_n, count(acknowledged_at) AS ack_n,
	         count(DISTINCT event_type) AS event_types,
	         min(created_at)::VARCHAR AS min_created, max(created_at)::VARCHAR AS max_created,
	         sum(score) FILTER (WHERE id BETWEEN 1000 AND 2999) AS score_sum
	  FROM events_once},
	# every row, every column, in forms PostgreSQL reads back
	q{SELECT id::VARCHAR AS id, event_type, project_id::VARCHAR AS project_id,
	         headers::VARCHAR AS headers, hex(data) AS data_hex, amount::VARCHAR AS amount,
	         score, latency_ms, attempts, tags, delivered,
	         created_at::VARCHAR AS created_at, acknowledged_at::VARCHAR AS acknowledged_at,
	         filename, object_date::VARCHAR AS object_date
	  FROM events_once ORDER BY id},
	# object dates of the copies, by kind of object
	q{SELECT regexp_matches(filename, '_export_[^/]*$') AS export, object_date::VARCHAR AS object_date,
	         count(*) AS n, min(created_at)::VARCHAR AS min_created
	  FROM events GROUP BY ALL ORDER BY ALL});
is($rc, 0, 'DuckDB runs the documented views and the queries') or diag $err;
my ($counts, $aggregates, $rows, $dates) = @$res;

is_deeply(
	$counts->[0],
	{ all_copies => $total + $backdated, once => $total, in_export => $backdated },
	'the view holds the exported rows twice, the deduplicating view every row once');

# Aggregates: computed by DuckDB, compared in PostgreSQL.
(my $agg = $raw->[1]) =~ s/^\[(.*)\]$/$1/s;
my $agg_check = $node->safe_psql(
	'postgres', qq{
SELECT json_build_object(
  'n', d.n::bigint = count(*),
  'ids', d.ids::bigint = count(DISTINCT e.id),
  'id_sum', d.id_sum::numeric = sum(e.id),
  'amount_sum', d.amount_sum::numeric = sum(e.amount),
  'attempts_sum', d.attempts_sum::numeric = sum(e.attempts),
  'data_bytes', d.data_bytes::numeric = sum(octet_length(e.data)),
  'data_n', d.data_n::bigint = count(e.data),
  'headers_n', d.headers_n::bigint = count(NULLIF(e.headers, 'null')),
  'ack_n', d.ack_n::bigint = count(e.acknowledged_at),
  'event_types', d.event_types::bigint = count(DISTINCT e.event_type),
  'min_created', d.min_created::timestamptz = min(e.created_at),
  'max_created', d.max_created::timestamptz = max(e.created_at),
  -- floating-point sums (of the generated rows: the edge values would cancel
  -- out in an order-dependent way) agree up to rounding
  'score_sum', abs(d.score_sum::float8 - sum(e.score::float8) FILTER
      (WHERE e.id BETWEEN 1000 AND 2999)) <= 1e-9 * abs(d.score_sum::float8))
FROM convoy.events e,
     jsonb_to_record(\$duck\$$agg\$duck\$::jsonb) AS d(n text, ids text, id_sum text,
       amount_sum text, attempts_sum text, data_bytes text, data_n text, headers_n text,
       ack_n text, event_types text, min_created text, max_created text, score_sum text)
GROUP BY d.n, d.ids, d.id_sum, d.amount_sum, d.attempts_sum, d.data_bytes, d.data_n,
         d.headers_n, d.ack_n, d.event_types, d.min_created, d.max_created, d.score_sum});
my $agg_ok = $json->decode($agg_check);
for my $name (sort keys %$agg_ok)
{
	ok($agg_ok->{$name}, "aggregate $name: DuckDB equals PostgreSQL")
	  or diag "DuckDB: $agg";
}

# Every row and column: DuckDB's rows, compared with the table in PostgreSQL.
my $rows_json = $raw->[2];
unlike($rows_json, qr/\$duck\$/, 'the rows can be quoted with $duck$');
my $mismatches = $json->decode(
	$node->safe_psql(
		'postgres', qq{
WITH d AS (
  SELECT * FROM jsonb_to_recordset(\$duck\$$rows_json\$duck\$::jsonb) AS d(id bigint,
    event_type text, project_id uuid, headers text, data_hex text, amount numeric,
    score float8, latency_ms float8, attempts int, tags text[], delivered bool,
    created_at timestamptz, acknowledged_at timestamptz, filename text, object_date date))
SELECT json_build_object(
  'only_in_duckdb', count(*) FILTER (WHERE e.id IS NULL),
  'only_in_postgres', count(*) FILTER (WHERE d.id IS NULL),
  'event_type', count(*) FILTER (WHERE d.event_type IS DISTINCT FROM e.event_type),
  'project_id', count(*) FILTER (WHERE d.project_id IS DISTINCT FROM e.project_id),
  -- a jsonb value that is JSON null is written as null, like SQL NULL
  'headers', count(*) FILTER (WHERE d.headers::jsonb IS DISTINCT FROM NULLIF(e.headers, 'null')),
  'data', count(*) FILTER (WHERE d.data_hex IS DISTINCT FROM upper(encode(e.data, 'hex'))),
  'amount', count(*) FILTER (WHERE d.amount IS DISTINCT FROM e.amount
                                OR d.amount::text IS DISTINCT FROM e.amount::text),
  'score', count(*) FILTER (WHERE d.score IS DISTINCT FROM e.score::float8),
  'latency_ms', count(*) FILTER (WHERE d.latency_ms IS DISTINCT FROM e.latency_ms),
  'attempts', count(*) FILTER (WHERE d.attempts IS DISTINCT FROM e.attempts),
  'tags', count(*) FILTER (WHERE d.tags IS DISTINCT FROM e.tags),
  'delivered', count(*) FILTER (WHERE d.delivered IS DISTINCT FROM e.delivered),
  'created_at', count(*) FILTER (WHERE d.created_at IS DISTINCT FROM e.created_at),
  'acknowledged_at', count(*) FILTER (WHERE d.acknowledged_at IS DISTINCT FROM e.acknowledged_at),
  'copy_from_export', count(*) FILTER (WHERE d.filename ~ '_export_[^/]*\$'))
FROM d FULL JOIN convoy.events e ON d.id = e.id}));
for my $name (sort keys %$mismatches)
{
	is($mismatches->{$name}, 0, "rows with $name different in DuckDB: none");
}

# A few rows as DuckDB gave them, for the eye (and a check that the edge
# values did not all collapse into something equal by accident).
my %by_id = map { $_->{id} => $_ } @$rows;
is($by_id{2}{event_type}, "quote \" back \\ slash\nline two\ttab \x{e9} \x{2603} \x{1f600} \x{2028} end",
	'row 2: text with quotes, backslash, line break, tab and Unicode');
is($by_id{2}{data_hex}, '00FF10000A5C22', 'row 2: bytea with NUL, newline, backslash and quote bytes');
is($by_id{2}{amount}, '9999999999.99', 'row 2: numeric(12,2) as DECIMAL, exact');
is($by_id{2}{created_at}, '2026-01-01 00:00:02.123456+00', 'row 2: timestamptz with microseconds');
is($by_id{3}{data_hex}, '', 'row 3: empty bytea');
is($by_id{3}{score}, 'NaN', 'row 3: numeric NaN as DOUBLE NaN');
is($by_id{3}{acknowledged_at}, 'infinity', 'row 3: timestamptz infinity');
is($by_id{4}{score}, 'Infinity', 'row 4: numeric Infinity');
is($by_id{5}{headers}, undef, 'row 5: jsonb null reads as NULL');
is($by_id{1}{tags}, undef, 'row 1: NULL array');
is_deeply($by_id{2}{tags}, [ 'a', undef, 'c"d', '', "\x{fc}" ], 'row 2: text[] with NULL');
is($by_id{'9223372036854775807'}{event_type}, 'largest bigint', 'largest bigint as id');
is($by_id{'9007199254740993'}{amount}, '0.01', '2^53 + 1 as id, not rounded');

# Object dates: cdc objects carry the commit date (today, whatever created_at
# says), export objects the date of their window.
my @cdc_dates = map { $_->{object_date} } grep { !$_->{export} } @$dates;
ok((grep { $_ lt $test_day } @cdc_dates) == 0,
	"cdc objects are dated by commit ($test_day or later), also for rows created on 2026-01-01")
  or diag explain $dates;
my @export_groups = grep { $_->{export} } @$dates;
is_deeply(
	[ map { [ $_->{object_date}, $_->{n} ] } @export_groups ],
	[ [ '2026-01-01', $backdated ] ],
	'export rows are dated by their window: 2026-01-01');

# A filter on object_date skips objects unread: an object that cannot be read,
# dated 2020-01-01, fails a query over every object but not one that filters
# it out.
my $bad_dir = "$storage/backup/2020-01-01/convoy.events";
make_path($bad_dir);
PostgreSQL::Test::Utils::append_to_file("$bad_dir/2020-01-01T00:00:00.000000Z_0000000000000001.jsonl.gz",
	"not gzip\n");
($rc, $res, $err) = duckdb($setup, 'SELECT count(*) AS n FROM events');
isnt($rc, 0, 'an unreadable object fails a query over every object');
like($err, qr/2020-01-01/, 'naming the unreadable object');
($rc, $res, $err) = duckdb($setup,
	q{SELECT count(*) AS n FROM events WHERE object_date > DATE '2020-01-01'});
is($rc, 0, 'a filter on object_date skips the unreadable object') or diag $err;
is($res->[0][0]{n}, $total + $backdated, 'and reads every other object');
unlink "$bad_dir/2020-01-01T00:00:00.000000Z_0000000000000001.jsonl.gz";

# The page's other DuckDB examples run on the same view.
my @examples = doc_blocks('duckdb-runs');
($rc, $res, $err) = duckdb($setup, @examples);
is($rc, 0, scalar(@examples) . ' more examples of the page run') or diag $err;
is(scalar @$res, scalar @examples, 'each gives a result');

$node->stop;
done_testing();
