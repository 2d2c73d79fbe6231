
# Copyright (c) convoy_backup authors
#
# Configuration errors and clean shutdown:
#  (a) wal_level below logical: a warning at start, the worker says once that
#      it cannot start and is not restarted; the server works normally.
#  (b) output_plugin_libraries without convoy_backup: the worker says so once
#      and waits; a reload that adds it lets it create its slot and back up.
#  (c) without shared_preload_libraries CREATE EXTENSION refuses.
#  (d) invalid values are refused (ALTER SYSTEM) or ignored on reload, keeping
#      the old value, and nothing crashes.
#  (e) a fast shutdown writes out what is buffered.
# Nodes (a) and (b) start first so that their "only once" checks can wait
# long enough (> bgw_restart_time = 10 s) while the other parts run.
use strict;
use warnings;

use File::Find;
use File::Spec;
use IO::Uncompress::Gunzip qw(gunzip $GunzipError);
use JSON::PP;
use Time::HiRes qw(usleep time);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib "$FindBin::RealBin/..";
use ConvoyBackupTap qw(poll_until object_files object_rows log_shows count_in_log);

my $wait_secs = 60;
$PostgreSQL::Test::Utils::timeout_default = $wait_secs;

# Longer than the worker's restart interval (10 s): a worker that exits with
# a restartable code would have logged its complaint a second time by then.
my $once_window_secs = 12;

my $not_logical_warning =
  'convoy_backup.mode is "cdc" but wal_level is not "logical"';
my $cannot_start =
  'convoy_backup cdc worker cannot start: wal_level is not "logical"';
my $not_listed =
  'convoy_backup cdc worker cannot decode: "convoy_backup" is not listed in output_plugin_libraries';


sub sleep_until
{
	my ($when) = @_;
	my $left = $when - time();
	usleep(int($left * 1_000_000)) if $left > 0;
}

sub base_conf
{
	my ($storage, %extra) = @_;
	my $plugins = exists $extra{plugins} ? $extra{plugins} : 'pgoutput, test_decoding, convoy_backup';
	my $interval = $extra{interval} // '1s';
	return qq{
shared_preload_libraries = 'convoy_backup'
output_plugin_libraries = '$plugins'
convoy_backup.database = 'postgres'
convoy_backup.on_prem_path = '$storage'
convoy_backup.interval = '$interval'
convoy_backup.tables = 'convoy.events'
};
}

my $create_table = q{
CREATE SCHEMA convoy;
CREATE TABLE convoy.events (id bigint PRIMARY KEY, payload text, created_at timestamptz DEFAULT now());
};

# --- Start (a) and (b) ----------------------------------------------------

# (a) wal_level = replica.
my $storage_a = PostgreSQL::Test::Utils::tempdir();
my $node_a    = PostgreSQL::Test::Cluster->new('replica_level');
$node_a->init(allows_streaming => 1);    # wal_level = replica, max_wal_senders = 10
$node_a->append_conf('postgresql.conf', base_conf($storage_a));
$node_a->start;
my $start_a = time();

# (b) output_plugin_libraries without convoy_backup.
my $storage_b = PostgreSQL::Test::Utils::tempdir();
my $node_b    = PostgreSQL::Test::Cluster->new('plugin_not_listed');
$node_b->init(allows_streaming => 'logical');
$node_b->append_conf('postgresql.conf',
	"wal_level = logical\n" . base_conf($storage_b, plugins => 'pgoutput, test_decoding'));
$node_b->start;
my $start_b = time();

ok(log_shows($node_a, qr/\Q$cannot_start\E/), '(a) worker says it cannot start');
ok(log_shows($node_b, qr/\Q$not_listed\E/), '(b) worker says the plugin is not listed');
ok(log_shows($node_a, qr/HINT:  .*or set convoy_backup\.mode = 'export', which needs no logical decoding/),
	'(a) the hint suggests export mode');
ok(log_shows($node_b, qr/HINT:  output_plugin_libraries is "pgoutput, test_decoding"\. Add convoy_backup to it/),
	'(b) the hint prints the current output_plugin_libraries');

# --- (c) no shared_preload_libraries --------------------------------------
{
	my $node_c = PostgreSQL::Test::Cluster->new('not_preloaded');
	$node_c->init(allows_streaming => 'logical');
	$node_c->append_conf('postgresql.conf',
		"output_plugin_libraries = 'pgoutput, test_decoding, convoy_backup'\n");
	$node_c->start;
	my ($rc, $out, $err) = $node_c->psql('postgres', 'CREATE EXTENSION convoy_backup');
	isnt($rc, 0, '(c) CREATE EXTENSION fails without shared_preload_libraries');
	like($err, qr/convoy_backup must be loaded via shared_preload_libraries/,
		'(c) the error names shared_preload_libraries');
	is($node_c->safe_psql('postgres',
			"SELECT count(*) FROM pg_extension WHERE extname = 'convoy_backup'"),
		0, '(c) the extension was not created');
	is($node_c->safe_psql('postgres',
			"SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'convoy_backup cdc worker'"),
		0, '(c) no cdc worker runs');
	$node_c->stop('fast');
	unlike(slurp_file($node_c->logfile), qr/terminated by signal/, '(c) no crash');
}

# --- (e) a fast shutdown writes out what is buffered -------------------------
{
	my $storage_e = PostgreSQL::Test::Utils::tempdir();
	my $node_e    = PostgreSQL::Test::Cluster->new('clean_stop');
	$node_e->init(allows_streaming => 'logical');
	$node_e->append_conf('postgresql.conf',
		"wal_level = logical\n" . base_conf($storage_e, interval => '1h'));
	$node_e->start;
	ok( poll_until(
			$node_e,
			"SELECT count(*) = 1 FROM pg_replication_slots WHERE slot_name = 'convoy_backup'"),
		'(e) slot created');
	$node_e->safe_psql('postgres', "CREATE EXTENSION convoy_backup; $create_table");
	$node_e->safe_psql('postgres',
		q{INSERT INTO convoy.events (id, payload) SELECT g, 'row ' || g FROM generate_series(1, 100) g});
	# Decoded and buffered, but the interval (1 h) has not passed.
	ok( poll_until(
			$node_e, q{
SELECT buffered_rows = 100 AND rows_written = 0 AND objects_written = 0
FROM convoy_backup.convoy_backup_status() WHERE scope = 'worker'}),
		'(e) 100 rows buffered, nothing written yet');
	is(scalar(object_files($storage_e)), 0, '(e) no object before the stop');

	$node_e->stop('fast');
	my @files = object_files($storage_e);
	cmp_ok(scalar(@files), '>=', 1, '(e) objects exist after a fast stop');
	my @rows = object_rows($storage_e);
	is(scalar(@rows), 100, '(e) the objects hold 100 lines');
	is(join(',', sort { $a <=> $b } map { $_->{id} } @rows),
		join(',', 1 .. 100), '(e) ids 1..100, each once');
	is(scalar(grep { $_->{payload} eq "row $_->{id}" } @rows), 100, '(e) payloads intact');
	like(
		slurp_file($node_e->logfile),
		qr/convoy_backup cdc worker stopped after writing buffered rows/,
		'(e) worker logged its final flush');

	# The slot was confirmed: starting and stopping again rewrites nothing.
	$node_e->start;
	my $lsn = $node_e->safe_psql('postgres', 'SELECT pg_current_wal_lsn()');
	ok( poll_until(
			$node_e, qq{
SELECT confirmed_lsn >= '$lsn' AND buffered_rows = 0
FROM convoy_backup.convoy_backup_status() WHERE scope = 'worker'}),
		'(e) after a restart the worker catches up without buffering the old rows again');
	$node_e->stop('fast');
	is_deeply([ object_files($storage_e) ], \@files, '(e) no new objects after a restart');
	is(scalar(object_rows($storage_e)), 100, '(e) still 100 lines');
	unlike(slurp_file($node_e->logfile), qr/terminated by signal/, '(e) no crash');
}

# --- (a) assertions ---------------------------------------------------------
sleep_until($start_a + $once_window_secs);
is(count_in_log($node_a, $not_logical_warning), 1, '(a) WARNING about wal_level logged once');
like(
	slurp_file($node_a->logfile),
	qr/WARNING:  \Q$not_logical_warning\E/,
	'(a) it is a WARNING');
is(count_in_log($node_a, $cannot_start), 1, '(a) "cannot start" logged once: no restart loop');
is($node_a->safe_psql('postgres', 'SHOW wal_level'), 'replica', '(a) server runs with wal_level replica');
is($node_a->safe_psql('postgres', 'SELECT 1 + 1'), '2', '(a) queries work');
$node_a->safe_psql('postgres', 'CREATE EXTENSION convoy_backup');
like(
	$node_a->safe_psql('postgres',
		"SELECT last_error FROM convoy_backup.convoy_backup_status() WHERE scope = 'worker'"),
	qr/wal_level/,
	'(a) status last_error mentions wal_level');
is($node_a->safe_psql('postgres',
		"SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'convoy_backup cdc worker'"),
	0, '(a) no cdc worker runs');
is($node_a->safe_psql('postgres', 'SELECT count(*) FROM pg_replication_slots'),
	0, '(a) no slot was created');
$node_a->stop('fast');

# --- (b) assertions, then the fix ------------------------------------------
sleep_until($start_b + $once_window_secs);
is(count_in_log($node_b, $not_listed), 1, '(b) "not listed" logged once while waiting');
is($node_b->safe_psql('postgres', 'SELECT count(*) FROM pg_replication_slots'),
	0, '(b) no slot created while the plugin is not allowed');
$node_b->safe_psql('postgres', "CREATE EXTENSION convoy_backup; $create_table");
like(
	$node_b->safe_psql('postgres',
		"SELECT last_error FROM convoy_backup.convoy_backup_status() WHERE scope = 'worker'"),
	qr/output_plugin_libraries/,
	'(b) status last_error mentions output_plugin_libraries');
is($node_b->safe_psql('postgres',
		"SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'convoy_backup cdc worker'"),
	1, '(b) the worker keeps waiting (still running)');

$node_b->append_conf('postgresql.conf',
	"output_plugin_libraries = 'pgoutput, test_decoding, convoy_backup'");
$node_b->reload;
ok( poll_until(
		$node_b,
		"SELECT count(*) = 1 FROM pg_replication_slots WHERE slot_name = 'convoy_backup' AND plugin = 'convoy_backup'"
	),
	'(b) after the reload the worker creates its slot');
ok(log_shows($node_b, qr/convoy_backup cdc worker may now decode/),
	'(b) log says the worker may now decode');
ok( poll_until(
		$node_b,
		"SELECT last_error IS NULL FROM convoy_backup.convoy_backup_status() WHERE scope = 'worker'"),
	'(b) last_error cleared');
$node_b->safe_psql('postgres',
	q{INSERT INTO convoy.events (id, payload) SELECT g, 'b ' || g FROM generate_series(1, 50) g});
ok( poll_until(
		$node_b, q{
SELECT rows_written = 50 AND buffered_rows = 0
FROM convoy_backup.convoy_backup_status() WHERE scope = 'convoy.events'}),
	'(b) rows inserted after the reload are written');
{
	my @rows = object_rows($storage_b);
	is(join(',', sort { $a <=> $b } map { $_->{id} } @rows),
		join(',', 1 .. 50), '(b) the objects hold exactly the 50 rows');
}

# --- (d) invalid values ------------------------------------------------------
{
	my ($rc, $out, $err) = $node_b->psql('postgres',
		q{ALTER SYSTEM SET convoy_backup.tables = 'no_schema'});
	isnt($rc, 0, '(d) ALTER SYSTEM with an unqualified table fails');
	like($err, qr/is not schema-qualified/, '(d) the error says the name is not schema-qualified');
	my $auto = slurp_file($node_b->data_dir . '/postgresql.auto.conf');
	unlike($auto, qr/no_schema/, '(d) the bad value was not written to postgresql.auto.conf');

	my $offset = -s $node_b->logfile;
	$node_b->append_conf('postgresql.conf', "convoy_backup.interval = '0'");
	$node_b->reload;
	ok( log_shows(
			$node_b,
			qr/"convoy_backup\.interval".*(?:outside the valid range|invalid)|(?:outside the valid range|invalid value).*"convoy_backup\.interval"/,
			$offset),
		'(d) log says convoy_backup.interval = 0 is invalid');
	is($node_b->safe_psql('postgres', 'SHOW convoy_backup.interval'),
		'1s', '(d) convoy_backup.interval keeps its old value');

	# A bad table list in the file is refused the same way.
	$offset = -s $node_b->logfile;
	$node_b->append_conf('postgresql.conf', "convoy_backup.tables = 'no_schema'");
	$node_b->reload;
	ok(log_shows($node_b, qr/is not schema-qualified/, $offset),
		'(d) log says the table list in the file is invalid');
	is($node_b->safe_psql('postgres', 'SHOW convoy_backup.tables'),
		'convoy.events', '(d) convoy_backup.tables keeps its old value');

	# The worker survived both reloads and still backs up.
	$node_b->safe_psql('postgres',
		q{INSERT INTO convoy.events (id, payload) SELECT g, 'b ' || g FROM generate_series(51, 60) g});
	ok( poll_until(
			$node_b, q{
SELECT rows_written = 60 AND buffered_rows = 0
FROM convoy_backup.convoy_backup_status() WHERE scope = 'convoy.events'}),
		'(d) the worker still backs up after the rejected values');
	is($node_b->safe_psql('postgres',
			"SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'convoy_backup cdc worker'"),
		1, '(d) exactly one cdc worker runs');
}
$node_b->stop('fast');

# --- No crash anywhere ----------------------------------------------------------
for my $node ($node_a, $node_b)
{
	my $log = slurp_file($node->logfile);
	unlike($log, qr/terminated by signal/, $node->name . ': no process terminated by a signal');
	unlike($log, qr/\bPANIC:/, $node->name . ': no PANIC');
}

done_testing();
