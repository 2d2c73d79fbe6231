
# Copyright (c) convoy_backup authors
#
# The catalog (docs/catalog.md): every object the cdc worker or an export
# writes has a manifest next to it, and the manifests agree with the files,
# computed here from the files alone (gunzip, SHA-256): rows, raw and stored
# bytes, checksum, commit LSNs or window, and the least and greatest value of
# the table's time column (timestamptz, timestamp read as UTC, a domain over
# date with infinities; none for a column of another type or a missing one).
#
# A manifest is written only after its object, and the slot is confirmed (or
# the export done) only after the manifest: with a directory in the way of a
# manifest, the object is there, the manifest is not, the slot stays before
# the transaction and the status shows the error; once the obstacle is gone
# (also after the worker was killed with SIGKILL meanwhile), the manifest
# appears and every row is in storage exactly once.
use strict;
use warnings;

use File::Path qw(make_path);
use IO::Uncompress::Gunzip qw(gunzip $GunzipError);
use JSON::PP;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib "$FindBin::RealBin/..";
use ConvoyBackupTap
  qw(poll_until server_conf object_files manifest_files manifest_problems log_shows);

my $wait_secs = 60;
$PostgreSQL::Test::Utils::timeout_default = $wait_secs;

my $storage = PostgreSQL::Test::Utils::tempdir();
my $node    = PostgreSQL::Test::Cluster->new('manifests');
$node->init(allows_streaming => 'logical');
$node->append_conf(
	'postgresql.conf', server_conf() . qq{
# The commit time of a transaction names its object (see object_key.hpp).
track_commit_timestamp = on
# Times are recorded in UTC whatever the server's zone.
timezone = 'Asia/Kolkata'
convoy_backup.database = 'postgres'
convoy_backup.on_prem_path = '$storage'
convoy_backup.interval = '1s'
convoy_backup.tables = 'convoy.events, convoy.days, convoy.stamps:at, convoy.notime, convoy.nocol'
});
$node->start;
ok(poll_until($node, "SELECT count(*) = 1 FROM pg_replication_slots WHERE slot_name = 'convoy_backup'"),
	'cdc worker created its slot');

$node->safe_psql(
	'postgres', q{
CREATE EXTENSION convoy_backup;
CREATE EXTENSION pg_walinspect;
CREATE SCHEMA convoy;
CREATE TABLE convoy.events (id bigint PRIMARY KEY, created_at timestamptz, payload text);
CREATE DOMAIN convoy.day AS date;
CREATE TABLE convoy.days (id int PRIMARY KEY, created_at convoy.day);
-- Its time column is "at" (named in the table list), not created_at.
CREATE TABLE convoy.stamps (id int PRIMARY KEY, at timestamp, created_at timestamptz);
CREATE TABLE convoy.notime (id int PRIMARY KEY, created_at text);
CREATE TABLE convoy.nocol (id int PRIMARY KEY);
});

sub query { return $node->safe_psql('postgres', $_[0]); }

# Waits until every row of the tables is written and nothing is buffered.
sub wait_written
{
	my ($what) = @_;
	ok( poll_until(
			$node, q{
SELECT (SELECT rows_written FROM convoy_backup.convoy_backup_status() WHERE scope = 'worker')
     = (SELECT (SELECT count(*) FROM convoy.events) + (SELECT count(*) FROM convoy.days)
             + (SELECT count(*) FROM convoy.stamps) + (SELECT count(*) FROM convoy.notime)
             + (SELECT count(*) FROM convoy.nocol))
   AND (SELECT buffered_rows FROM convoy_backup.convoy_backup_status() WHERE scope = 'worker') = 0}),
		"$what: every row written");
}

sub lsn_number
{
	my ($hi, $lo) = split m{/}, $_[0];
	return hex($hi) * 2**32 + hex($lo);
}

my %time_columns = (
	'convoy.events' => 'created_at',
	'convoy.days'   => 'created_at',
	'convoy.stamps' => 'at');

# --- cdc objects and their manifests ------------------------------------
query(q{
INSERT INTO convoy.events
SELECT g, CASE WHEN g % 5 = 0 THEN NULL
               ELSE '2021-03-01 12:00:00+00'::timestamptz + g * interval '1.000001 s' END, 'p' || g
FROM generate_series(1, 500) g;
INSERT INTO convoy.days VALUES (1, '2021-03-01'), (2, NULL), (3, 'infinity'), (4, '-infinity'), (5, '1999-12-31');
INSERT INTO convoy.stamps VALUES (1, '2021-03-01 12:00:01.5', '1990-01-01 00:00+00'), (2, '2021-03-01 11:59:59', '2040-01-01 00:00+00'), (3, NULL, NULL);
INSERT INTO convoy.notime VALUES (1, '2021-03-01'), (2, NULL);
INSERT INTO convoy.nocol VALUES (1), (2);
});
wait_written('first rows');

# An object whose rows all have NULL there has no time range.
query(q{INSERT INTO convoy.events (id) VALUES (501), (502)});
wait_written('rows without a time');

# A transaction large enough to be written as segments (16 MB each).
query(q{
INSERT INTO convoy.events
SELECT 1000 + g, '2021-03-02 00:00:00+00'::timestamptz + g * interval '1 min', repeat('x', 1000000)
FROM generate_series(1, 20) g;
});
wait_written('a segmented transaction');

my ($problems, $manifests) = manifest_problems($storage, \%time_columns);
is_deeply($problems, [], 'every cdc object has a manifest that describes it exactly');
my @cdc = grep { $manifests->{$_}{source} eq 'cdc' } sort keys %$manifests;
is(scalar(@cdc), scalar(keys %$manifests), 'so far every manifest is of a cdc object');
is(scalar(@cdc),
	query(q{SELECT objects_written FROM convoy_backup.convoy_backup_status() WHERE scope = 'worker'}),
	'as many manifests as the worker wrote objects');

my %by_table;
push @{ $by_table{ $manifests->{$_}{table} } }, $manifests->{$_} for @cdc;
is_deeply([ sort keys %by_table ],
	[qw(convoy.days convoy.events convoy.nocol convoy.notime convoy.stamps)],
	'manifests name the tables as configured');
for my $table ('convoy.notime', 'convoy.nocol')
{
	my @m = @{ $by_table{$table} };
	is_deeply([ map { [ $_->{time_column}, $_->{time_min}, $_->{time_max} ] } @m ],
		[ map { [ 'created_at', undef, undef ] } @m ],
		"$table: no time range (a text column, no column)");
}
ok((grep { ($_->{time_min} // '') eq '-infinity' && ($_->{time_max} // '') eq 'infinity' } @{ $by_table{'convoy.days'} }),
	'convoy.days: infinite dates are the range ends');
ok((grep { $_->{rows} == 2 && !defined $_->{time_min} } @{ $by_table{'convoy.events'} }),
	'convoy.events: an object of NULL times has none');
is_deeply([ map { $_->{time_column} } @{ $by_table{'convoy.stamps'} } ],
	[ map { 'at' } @{ $by_table{'convoy.stamps'} } ], 'convoy.stamps: the column named in the table list');

my $segments = grep { /_\d{20}\.jsonl\.gz$/ } @cdc;
cmp_ok($segments, '>=', 1, 'the large transaction was written in segments');

# LSNs: the key's is the first; the last is a commit record at or after it;
# a segment holds rows of one transaction.
my (@bad_lsns, @commit_lsns);
for my $rel (@cdc)
{
	my $m = $manifests->{$rel};
	my ($key_lsn) = $rel =~ /Z_([0-9A-F]{16})(?:_\d{20})?\.jsonl\.gz$/;
	my ($first, $last) = (lsn_number($m->{first_commit_lsn}), lsn_number($m->{last_commit_lsn}));
	push @bad_lsns, $rel
	  if hex(substr($key_lsn, 0, 8)) * 2**32 + hex(substr($key_lsn, 8)) != $first
	  || $first > $last
	  || ($rel =~ /_\d{20}\.jsonl\.gz$/ && $first != $last);
	push @commit_lsns, "'$m->{first_commit_lsn}'", "'$m->{last_commit_lsn}'";
}
is_deeply(\@bad_lsns, [], 'first_commit_lsn is the key\'s, last_commit_lsn follows it');
is( query(
		'SELECT count(*) FROM unnest(ARRAY[' . join(',', @commit_lsns) . ']::pg_lsn[]) l '
		  . "WHERE (SELECT record_type FROM pg_get_wal_record_info(l)) <> 'COMMIT'"),
	0,
	'every commit LSN of a manifest is a commit record');

# --- export objects and their manifests --------------------------------
# Export reads each table's time column with SQL: only tables that have one.
$node->append_conf('postgresql.conf',
	"convoy_backup.tables = 'convoy.events, convoy.days, convoy.stamps:at'\n");
$node->reload;
ok(poll_until($node, q{SELECT setting = 'convoy.events, convoy.days, convoy.stamps:at' FROM pg_settings WHERE name = 'convoy_backup.tables'}),
	'table list reloaded');
# What export writes of [$start, $end), and what it should write: the rows
# each table has there (compared in the session's zone, as export does).
sub export_window
{
	my ($start, $end) = @_;
	my $done = query(
		qq{SELECT string_agg(table_name || ' ' || rows, ', ' ORDER BY table_name)
           FROM convoy_backup.convoy_backup_export('$start', '$end')});
	my $counts = join(
		" || ', ' || ",
		map {
			"'$_->[0] ' || (SELECT count(*) FROM $_->[0] "
			  . "WHERE $_->[1] >= '$start'::timestamptz AND $_->[1] < '$end'::timestamptz)"
		} (['convoy.days', 'created_at'], ['convoy.events', 'created_at'], ['convoy.stamps', 'at']));
	return ($done, query("SELECT $counts"));
}
my ($exported, $expected_export) = export_window('2021-03-01 12:00+00', '2021-03-01 12:05+00');
is($exported, $expected_export, 'export wrote one object per table with the window\'s rows');
like($exported, qr/convoy\.events 240/, 'the window holds rows of convoy.events');
($problems, $manifests) = manifest_problems($storage, \%time_columns);
is_deeply($problems, [], 'every export object has a manifest that describes it exactly');
my @exports = grep { $manifests->{$_}{source} eq 'export' } sort keys %$manifests;
is(scalar(@exports), 3, 'three export manifests');
for my $rel (@exports)
{
	my $m = $manifests->{$rel};
	is("$m->{window_start} $m->{window_end}", '2021-03-01T12:00:00.000000Z 2021-03-01T12:05:00.000000Z',
		"$m->{table}: the window");
	ok(!exists $m->{first_commit_lsn}, "$m->{table}: no LSNs in an export manifest");
}
my ($events_export) = grep { $manifests->{$_}{table} eq 'convoy.events' } @exports;
is( join(' ', @{ $manifests->{$events_export} }{qw(time_min time_max)}),
	'2021-03-01T12:00:01.000001Z 2021-03-01T12:04:59.000299Z',
	'convoy.events: the range of the window\'s rows');

# A failure between object and manifest fails the export; done again, both are written.
my $blocked_export =
  "$storage/backup/2021-03-01/convoy.events/2021-03-01T12:05:00.000000Z_export_2021-03-01T12:10:00.000000Z";
make_path("$blocked_export.manifest.json");
my ($rc, $out, $err) = $node->psql('postgres',
	q{SELECT * FROM convoy_backup.convoy_backup_export('2021-03-01 12:05+00', '2021-03-01 12:10+00')});
isnt($rc, 0, 'export fails when its manifest cannot be written');
like($err, qr/ERROR:  could not export table convoy\.events: .*manifest\.json/, 'the error names the manifest');
ok(-f "$blocked_export.jsonl.gz" && -d "$blocked_export.manifest.json",
	'the object is durable, its manifest is not there');
rmdir "$blocked_export.manifest.json" or die "rmdir: $!";
($exported, $expected_export) = export_window('2021-03-01 12:05+00', '2021-03-01 12:10+00');
is($exported, $expected_export, 'the export done again succeeds');
is(scalar(grep { m{/2021-03-01T12:05:00\.000000Z_export_[^/]*\.jsonl\.gz$} } object_files($storage)), 3,
	'one object per table of that window');
($problems) = manifest_problems($storage, \%time_columns);
is_deeply($problems, [], 'its object and manifest agree');

# --- cdc: a manifest that cannot be written ------------------------------
# With a long interval nothing is written until the test reloads a short one,
# so the object key of the next transaction can be known before it is written.
wait_written('before the failures');
sub set_interval
{
	my ($interval) = @_;
	$node->append_conf('postgresql.conf', "convoy_backup.interval = '$interval'\n");
	$node->reload;
	ok(poll_until($node, qq{SELECT current_setting('convoy_backup.interval') = '$interval'}),
		"interval is $interval");
}

# Inserts rows $from..$to in one transaction; returns its commit LSN and the
# path (without .jsonl.gz) of the object it starts.
sub insert_transaction
{
	my ($from, $to) = @_;
	my $before = query('SELECT pg_current_wal_lsn()');
	query("INSERT INTO convoy.events SELECT g, now(), 'late' FROM generate_series($from, $to) g");
	my ($lsn, $key) = split /\|/, query(
		qq{
SELECT w.start_lsn,
       'backup/' || to_char(c.ts AT TIME ZONE 'UTC', 'YYYY-MM-DD') || '/convoy.events/'
       || to_char(c.ts AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') || '_'
       || lpad(upper(to_hex((w.start_lsn - '0/0')::bigint)), 16, '0')
FROM (SELECT xmin AS xid, pg_xact_commit_timestamp(xmin) AS ts FROM convoy.events WHERE id = $from) c
JOIN pg_get_wal_records_info('$before', pg_current_wal_lsn()) w
  ON w.xid::text = c.xid::text AND w.record_type = 'COMMIT'});
	return ($lsn, "$storage/$key");
}

# Puts a directory where the manifest goes, lets the worker write, and checks
# that the failure holds everything back.
sub block_manifest_and_flush
{
	my ($what, $lsn, $object) = @_;
	make_path("$object.manifest.json");
	my $log_offset = -s $node->logfile;
	set_interval('1s');
	ok( poll_until(
			$node,
			q{SELECT last_error LIKE '%manifest.json%' FROM convoy_backup.convoy_backup_status() WHERE scope = 'convoy.events'}
		),
		"$what: the status shows the failed manifest write");
	ok(log_shows($node, qr/WARNING:  convoy_backup could not write backup object for table convoy\.events: .*manifest\.json/, $log_offset),
		"$what: the log shows it");
	ok(-f "$object.jsonl.gz" && -d "$object.manifest.json", "$what: the object is durable, its manifest is not there");
	is(query(qq{SELECT confirmed_flush_lsn <= '$lsn' FROM pg_replication_slots WHERE slot_name = 'convoy_backup'}),
		't', "$what: the slot did not advance to the transaction");
}

# Waits until the manifest is written and the slot confirmed past the transaction.
sub wait_healed
{
	my ($what, $lsn, $object) = @_;
	ok( poll_until(
			$node,
			qq{SELECT confirmed_flush_lsn > '$lsn' FROM pg_replication_slots WHERE slot_name = 'convoy_backup'}
		),
		"$what: the slot advanced past the transaction");
	ok(-f "$object.manifest.json", "$what: the manifest was written");
	is(query(q{SELECT coalesce(last_error, '') FROM convoy_backup.convoy_backup_status() WHERE scope = 'convoy.events'}),
		'', "$what: the error is cleared");
}

set_interval('1h');
my ($lsn1, $object1) = insert_transaction(2001, 2100);
block_manifest_and_flush('(a)', $lsn1, $object1);
sleep 3;    # retries go on failing meanwhile
is(query(qq{SELECT confirmed_flush_lsn <= '$lsn1' FROM pg_replication_slots WHERE slot_name = 'convoy_backup'}),
	't', '(a) the slot stays while the manifest cannot be written');
cmp_ok(query(q{SELECT retry_count FROM convoy_backup.convoy_backup_status() WHERE scope = 'worker'}),
	'>=', 1, '(a) the write is retried');
rmdir "$object1.manifest.json" or die "rmdir: $!";
$node->reload;    # retries at once
wait_healed('(a) obstacle removed', $lsn1, $object1);

# The same, but the worker is killed while the manifest cannot be written: it
# decodes the transaction again and writes both under the same keys.
set_interval('1h');
wait_written('(b) before');
my ($lsn2, $object2) = insert_transaction(3001, 3100);
block_manifest_and_flush('(b)', $lsn2, $object2);
my $worker = query(q{SELECT pid FROM pg_stat_activity WHERE backend_type = 'convoy_backup cdc worker'});
my $log_offset = -s $node->logfile;
kill 'KILL', $worker;
# The test clusters run with restart_after_crash = off: the server stops.
my $deadline = time() + $wait_secs;
sleep 1 while -e $node->data_dir . '/postmaster.pid' && time() < $deadline;
ok(!-e $node->data_dir . '/postmaster.pid', '(b) the server stopped after the worker was killed');
$node->_update_pid(0);
$node->start;
ok(log_shows($node, qr/convoy_backup cdc worker started decoding/, $log_offset),
	'(b) the worker started again');
ok( poll_until(
		$node,
		q{SELECT last_error LIKE '%manifest.json%' FROM convoy_backup.convoy_backup_status() WHERE scope = 'convoy.events'}
	),
	'(b) after the restart the manifest write fails again');
is(query(qq{SELECT confirmed_flush_lsn <= '$lsn2' FROM pg_replication_slots WHERE slot_name = 'convoy_backup'}),
	't', '(b) the slot stayed before the transaction');
rmdir "$object2.manifest.json" or die "rmdir: $!";
$node->reload;
wait_healed('(b) obstacle removed after a crash', $lsn2, $object2);

# --- everything agrees, every row once ----------------------------------
# (Nothing was inserted after the last transaction, which is confirmed.)
($problems, $manifests) = manifest_problems($storage, \%time_columns);
is_deeply($problems, [], 'every object and manifest agree');
is(scalar(object_files($storage)), scalar(manifest_files($storage)), 'as many manifests as objects');

my %count;    # "table id" => occurrences in cdc objects
for my $rel (grep { $manifests->{$_}{source} eq 'cdc' } keys %$manifests)
{
	my $text;
	gunzip("$storage/$rel" => \$text, MultiStream => 1) or die "gunzip $rel: $GunzipError";
	$count{"$manifests->{$rel}{table} " . JSON::PP->new->decode($_)->{id}}++ for split /\n/, $text;
}
my %expected;
for my $table (qw(convoy.events convoy.days convoy.stamps convoy.notime convoy.nocol))
{
	$expected{"$table $_"} = 1 for split /\n/, query("SELECT id FROM $table");
}
is_deeply(\%count, \%expected, 'the cdc objects hold every row exactly once');

# --- a new default time column applies from where the worker read it ----
$log_offset = -s $node->logfile;
$node->append_conf('postgresql.conf', "convoy_backup.time_column = 'payload'\n");
$node->reload;
ok(log_shows($node, qr/convoy_backup backs up 3 tables from/, $log_offset),
	'the worker schedules the change of time column like a change of the list');
my (undef, $object3) = insert_transaction(4001, 4001);
ok(poll_until($node, qq{SELECT (pg_stat_file('$object3.manifest.json', true)).size IS NOT NULL}),
	'the next object is written with its manifest');
my $m3 = JSON::PP->new->decode(slurp_file("$object3.manifest.json"));
is_deeply([ @$m3{qw(table time_column time_min time_max rows)} ], [ 'convoy.events', 'payload', undef, undef, 1 ],
	'its manifest names the new column (text: no range)');

unlike(slurp_file($node->logfile), qr/terminated by signal (?!9)/, 'no crash but the one caused');
$node->stop('fast');
done_testing();
