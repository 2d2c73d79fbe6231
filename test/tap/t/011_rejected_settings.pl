
# Copyright (c) convoy_backup authors
#
# No silent fallback: a convoy_backup.mode, .tables or .interval value that
# PostgreSQL refuses at server start does not leave the workers running with
# the default. Each worker says once that it refuses to run (naming the setting
# and the value), convoy_backup_status() shows it, and nothing is backed up
# until the value is corrected: on reload for .tables and .interval, only on
# restart for .mode. Also: with convoy_backup.tables empty (the default) the
# cdc worker backs up nothing, says so, and keeps its slot moving.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib "$FindBin::RealBin/..";
use ConvoyBackupTap qw(poll_until object_files server_conf log_shows count_in_log);

$PostgreSQL::Test::Utils::timeout_default = 60;

my $status_error = q{SELECT coalesce(last_error, '') FROM convoy_backup.convoy_backup_status()
 WHERE scope = 'worker'};

sub node_with
{
	my ($name, $storage, $extra) = @_;
	my $node = PostgreSQL::Test::Cluster->new($name);
	$node->init(allows_streaming => 'logical');
	$node->append_conf('postgresql.conf',
		server_conf()
		  . "convoy_backup.database = 'postgres'\n"
		  . "convoy_backup.on_prem_path = '$storage'\n"
		  . $extra);
	$node->start;
	$node->safe_psql('postgres', q{CREATE EXTENSION convoy_backup;
CREATE SCHEMA convoy;
CREATE TABLE convoy.events (id bigint PRIMARY KEY, created_at timestamptz DEFAULT now());
CREATE TABLE public.events (id bigint PRIMARY KEY, created_at timestamptz DEFAULT now());});
	return $node;
}

# A node whose convoy_backup.$setting = '$value' is refused at start: checks
# that the cdc worker says so and that convoy_backup_status() shows it.
# Returns the node, its storage directory and the worker's message.
sub refused_node
{
	my ($name, $conf, $setting, $value) = @_;
	my $storage = PostgreSQL::Test::Utils::tempdir();
	my $node = node_with($name, $storage, $conf);
	my $refusal =
	  qq{convoy_backup cdc worker refuses to run: invalid value for parameter "convoy_backup.$setting": "$value"};
	ok(log_shows($node, qr/\Q$refusal\E/), "$setting: the cdc worker refuses, naming setting and value");
	ok(poll_until($node, "SELECT ($status_error) LIKE '%convoy_backup.$setting%$value%'"),
		"$setting: convoy_backup_status() shows the rejected value");
	return ($node, $storage, $refusal);
}

sub slot_count
{
	my ($node) = @_;
	return $node->safe_psql('postgres',
		"SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'convoy_backup'");
}

# --- convoy_backup.tables = 'events' (not schema-qualified) ------------------
{
	my ($node, $storage, $refusal) = refused_node('bad_tables',
		"convoy_backup.tables = 'events'\nconvoy_backup.interval = '1s'\n", 'tables', 'events');
	$node->safe_psql('postgres', 'INSERT INTO convoy.events (id) VALUES (1); INSERT INTO public.events (id) VALUES (1)');
	sleep 3;
	is(slot_count($node), 0, 'tables: no slot created meanwhile');
	is(scalar(object_files($storage)), 0, 'tables: nothing backed up (no default list)');
	is(count_in_log($node, $refusal), 1, 'tables: said once');
	my ($rc, $out, $err) = $node->psql('postgres',
		q{SELECT * FROM convoy_backup.convoy_backup_export(now() - interval '2 hours', now() - interval '1 hour')});
	isnt($rc, 0, 'tables: convoy_backup_export() refuses too');
	like($err, qr/invalid value for parameter "convoy_backup.tables": "events"/,
		'tables: naming the setting and the value');

	$node->append_conf('postgresql.conf', "convoy_backup.tables = 'convoy.events'\n");
	$node->reload;
	ok(poll_until($node, "SELECT count(*) = 1 FROM pg_replication_slots WHERE slot_name = 'convoy_backup'"),
		'tables: after the fix and a reload the worker creates its slot');
	ok(poll_until($node, "SELECT ($status_error) = ''"), 'tables: the error is cleared');
	$node->safe_psql('postgres', 'INSERT INTO convoy.events (id) VALUES (2)');
	ok(poll_until($node, q{SELECT rows_written >= 1 FROM convoy_backup.convoy_backup_status() WHERE scope = 'worker'}),
		'tables: rows are backed up after the fix');
	$node->stop('fast');
}

# --- convoy_backup.interval = '0' (out of range) -----------------------------
{
	my ($node) = refused_node('bad_interval',
		"convoy_backup.tables = 'convoy.events'\nconvoy_backup.interval = '0'\n", 'interval', '0');
	ok(log_shows($node, qr/convoy_backup export runner refuses to run: invalid value for parameter "convoy_backup.interval"/),
		'interval: the export runner refuses too');
	is(slot_count($node), 0, 'interval: no slot created');
	$node->append_conf('postgresql.conf', "convoy_backup.interval = '1s'\n");
	$node->reload;
	ok(poll_until($node, "SELECT count(*) = 1 FROM pg_replication_slots WHERE slot_name = 'convoy_backup'"),
		'interval: after the fix and a reload the worker runs');
	$node->stop('fast');
}

# --- convoy_backup.mode = 'exprot' (not a mode) -------------------------------
{
	my ($node) = refused_node('bad_mode',
		"convoy_backup.tables = 'convoy.events'\nconvoy_backup.mode = 'exprot'\nconvoy_backup.interval = '1s'\n",
		'mode', 'exprot');
	like(slurp_file($node->logfile), qr/restart the server/, 'mode: the hint says a restart is needed');
	$node->append_conf('postgresql.conf', "convoy_backup.mode = 'export'\n");
	$node->reload;
	sleep 3;
	is(slot_count($node), 0, 'mode: a reload does not start cdc');
	like($node->safe_psql('postgres', $status_error), qr/exprot/, 'mode: still refused until restart');
	my $offset = -s $node->logfile;
	$node->restart;
	is($node->safe_psql('postgres', 'SHOW convoy_backup.mode'), 'export', 'mode: export in force after a restart');
	ok(log_shows($node, qr/convoy_backup export scheduler started|database system is ready/, $offset), 'mode: restarted');
	sleep 3;
	unlike(slurp_file($node->logfile, $offset), qr/refuses to run/, 'mode: no refusal after the restart');
	unlike(slurp_file($node->logfile), qr/terminated by signal/, 'mode: no crash');
	$node->stop('fast');
}

# --- convoy_backup.tables unset: empty by default ------------------------------
{
	my $storage = PostgreSQL::Test::Utils::tempdir();
	my $node = node_with('no_tables', $storage, "convoy_backup.interval = '1s'\n");
	is($node->safe_psql('postgres', 'SHOW convoy_backup.tables'), '', 'default: empty');
	ok(log_shows($node, qr/convoy_backup\.tables is empty: no table is backed up/),
		'default: the cdc worker says no table is backed up');
	ok(poll_until($node, "SELECT count(*) = 1 FROM pg_replication_slots WHERE slot_name = 'convoy_backup'"),
		'default: the slot exists');
	my $before = $node->safe_psql('postgres',
		"SELECT confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = 'convoy_backup'");
	$node->safe_psql('postgres', 'INSERT INTO convoy.events (id) SELECT generate_series(1, 100)');
	ok(poll_until($node, "SELECT confirmed_flush_lsn > '$before' FROM pg_replication_slots WHERE slot_name = 'convoy_backup'", 't', 30),
		'default: the slot keeps moving');
	is(scalar(object_files($storage)), 0, 'default: nothing backed up');
	$node->stop('fast');
}

done_testing();
