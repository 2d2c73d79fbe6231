# Copyright (c) convoy_backup authors
#
# Problems that restarting a worker cannot fix stop it with one clear message,
# shown in convoy_backup_status(), instead of a restart every 10 seconds
# (issue 10, item 13):
#  (a) convoy_backup.database does not exist: every worker says so once and
#      checks again quietly; creating the database lets them start;
#  (b) a reload names more tables than convoy_backup.buffer_size can serve:
#      the cdc worker writes what it has under the old list, says so once and
#      waits; a reload with fewer tables lets it go on, with no row lost;
#  (c) a row whose JSON exceeds 1 GB: the cdc worker writes what came before,
#      names the row's table and transaction and how to skip it, and waits
#      until the slot is moved past that transaction.
use strict;
use warnings;

use Time::HiRes qw(usleep time);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib "$FindBin::RealBin/..";
use ConvoyBackupTap qw(poll_until server_conf start_cdc_node object_rows log_shows count_in_log);

$PostgreSQL::Test::Utils::timeout_default = 120;

# Longer than bgw_restart_time (10 s): a restarted worker would have spoken again.
my $quiet_secs = 12;

sub worker_pid
{
	my ($node) = @_;
	return $node->safe_psql('postgres',
		"SELECT pid FROM pg_stat_activity WHERE backend_type = 'convoy_backup cdc worker'");
}

sub worker_error
{
	my ($node) = @_;
	return $node->safe_psql('postgres',
		"SELECT last_error FROM convoy_backup.convoy_backup_status() WHERE scope = 'worker'");
}

# --- (a) a database that does not exist -------------------------------------
{
	my $storage = PostgreSQL::Test::Utils::tempdir();
	my $node    = PostgreSQL::Test::Cluster->new('no_database');
	$node->init(allows_streaming => 'logical');
	$node->append_conf(
		'postgresql.conf', server_conf() . qq{
convoy_backup.database = 'later'
convoy_backup.on_prem_path = '$storage'
convoy_backup.interval = '1s'
convoy_backup.tables = 'public.t'
});
	$node->start;
	$node->safe_psql('postgres', 'CREATE EXTENSION convoy_backup');
	ok(log_shows($node, qr/convoy_backup cdc worker cannot start: database "later" does not exist/),
		'(a) the cdc worker says the database does not exist');
	ok(log_shows($node, qr/convoy_backup export runner cannot start: database "later" does not exist/),
		'(a) so does the export runner');
	like(worker_error($node), qr/database "later" does not exist \(named by convoy_backup\.database\)/,
		'(a) the status shows it, naming the setting');
	sleep($quiet_secs);
	is(count_in_log($node, 'database "later" does not exist'), 3,
		'(a) said once by each of the three workers, no restart loop');
	unlike(slurp_file($node->logfile), qr/FATAL/, '(a) no worker ended with FATAL');

	$node->safe_psql('postgres', 'CREATE DATABASE later');
	ok(poll_until($node, "SELECT count(*) = 1 FROM pg_replication_slots WHERE slot_name = 'convoy_backup'", 't', 30),
		'(a) once the database exists, the cdc worker creates its slot');
	ok(poll_until($node, q{SELECT last_error IS NULL FROM convoy_backup.convoy_backup_status() WHERE scope = 'worker'}),
		'(a) and the status is clear again');
	$node->stop('fast');
}

# --- (b) and (c): one cluster -------------------------------------------------
my $storage = PostgreSQL::Test::Utils::tempdir();
my $node    = start_cdc_node('blocked_worker', $storage, interval => '1s', buffer_size => '1MB', tables => 'public.t, public.big');

sub query { return $node->safe_psql('postgres', $_[0]); }

query(q{
CREATE EXTENSION convoy_backup;
CREATE TABLE t (id bigint PRIMARY KEY, note text);
CREATE TABLE big (id bigint PRIMARY KEY, note text);
});

sub ids
{
	my ($label) = @_;
	return join ',', sort { $a <=> $b } map { $_->{id} } grep { $_->{note} =~ /^\Q$label\E/ } object_rows($storage);
}

# --- (b) more tables than the buffer can serve --------------------------------
{
	my $many = join ', ', 'public.t', 'public.big', map { "public.extra$_" } 1 .. 18;
	query(q{INSERT INTO t VALUES (1, 'b before')});
	my $offset = -s $node->logfile;
	query("ALTER SYSTEM SET convoy_backup.tables = '$many'; SELECT pg_reload_conf()");
	ok( log_shows(
			$node, qr/convoy_backup cdc worker cannot go on: convoy_backup.buffer_size is too small for 20 tables/,
			$offset),
		'(b) the worker says the buffer is too small for the new list');
	like(slurp_file($node->logfile, $offset), qr/HINT:  Set convoy_backup.buffer_size to at least \d+ kB .* Replication slot "convoy_backup" does not advance meanwhile/,
		'(b) the hint gives the size needed and names the slot that waits');
	like(worker_error($node), qr/buffer_size is too small for 20 tables/, '(b) the status shows it');
	is(ids('b '), '1', '(b) the row committed before the reload was written under the old list');
	my $pid = worker_pid($node);
	query(q{INSERT INTO t VALUES (2, 'b while blocked')});
	sleep($quiet_secs);
	is(worker_pid($node), $pid, '(b) the worker was not restarted');
	is(count_in_log($node, 'buffer_size is too small', $offset), 1, '(b) it said so once');

	query("ALTER SYSTEM SET convoy_backup.tables = 'public.t, public.big'; SELECT pg_reload_conf()");
	ok(log_shows($node, qr/convoy_backup cdc worker has room for its tables/, $offset), '(b) a reload with fewer tables lets it go on');
	ok(poll_until($node, q{SELECT last_error IS NULL AND buffered_rows = 0 FROM convoy_backup.convoy_backup_status() WHERE scope = 'worker'}),
		'(b) the status is clear and nothing waits');
	is(ids('b '), '1,2', '(b) the row inserted while it waited is backed up too');
}

# --- (c) a row too large to back up -------------------------------------------
{
	my $offset = -s $node->logfile;
	query(q{INSERT INTO big VALUES (1, 'c before')});
	# 200 million U+0001 characters: 1.2 GB of JSON (\u0001 each), compressed to
	# almost nothing in the table and in WAL.
	query(q{INSERT INTO big VALUES (2, repeat(chr(1), 200000000))});
	query(q{INSERT INTO big VALUES (3, 'c after')});
	ok( log_shows(
			$node,
			qr/convoy_backup cdc worker cannot go on: a row of table public.big in the transaction committed at [0-9A-F]+\/[0-9A-F]+ is too large to back up/,
			$offset),
		'(c) the worker names the row that cannot be backed up');
	my ($end_lsn) = slurp_file($node->logfile, $offset) =~ /pg_replication_slot_advance\('convoy_backup', '([0-9A-F]+\/[0-9A-F]+)'\)/;
	ok(defined $end_lsn, '(c) the hint says how to move the slot past it');
	like(worker_error($node), qr/too large to back up/, '(c) the status shows it');
	is(ids('c '), '1', '(c) what came before it is written');
	my $pid = worker_pid($node);
	sleep($quiet_secs);
	is(worker_pid($node), $pid, '(c) the worker was not restarted');
	is(count_in_log($node, 'is too large to back up', $offset), 1, '(c) it said so once');

	query("SELECT pg_replication_slot_advance('convoy_backup', '$end_lsn')");
	ok(log_shows($node, qr/convoy_backup cdc worker goes on after the slot was moved/, $offset),
		'(c) moving the slot lets it go on');
	my $deadline = time() + 60;
	usleep(200_000) while ids('c ') ne '1,3' && time() < $deadline;
	is(ids('c '), '1,3', '(c) the rows after it are backed up, the skipped one is not');
}

$node->stop('fast');
unlike(slurp_file($node->logfile), qr/terminated by signal/, 'no process crashed');
done_testing();
