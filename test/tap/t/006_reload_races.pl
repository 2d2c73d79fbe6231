# Copyright (c) convoy_backup authors
#
# Reloads while rows are in flight (issue 10, items 2, 5 and 6):
#  (a) a walsender decoding with the convoy_backup plugin survives a reload
#      that changes convoy_backup.tables, and keeps decoding (item 2);
#  (b) rows committed into a table before a reload removes it from
#      convoy_backup.tables, but not yet decoded, are still backed up: the new
#      list applies from the reload's LSN, which is logged (item 5);
#  (c) reloads do not postpone flushes: with reloads every second, a row is
#      written within about one interval (item 6);
#  (d) a crash after such a reload, before decoding reached its LSN, keeps
#      that promise: the lists are kept on disk (item 5);
#  (e) a failing write shows its retries, next retry and the age of the oldest
#      buffered row in the status, and a reload that fixes the cause is tried
#      at once, not after the backoff (issue 14, item 2).
use strict;
use warnings;

use IPC::Run qw(start finish);
use Time::HiRes qw(usleep time);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib "$FindBin::RealBin/..";
use ConvoyBackupTap qw(poll_until server_conf start_cdc_node object_rows log_shows);

$PostgreSQL::Test::Utils::timeout_default = 60;

my $storage = PostgreSQL::Test::Utils::tempdir();
my $node    = start_cdc_node('reload_races', $storage, interval => '4s', tables => 'public.kept, public.dropped');

sub query { return $node->safe_psql('postgres', $_[0]); }

query(q{
CREATE EXTENSION convoy_backup;
CREATE TABLE kept (id bigint PRIMARY KEY, payload text);
CREATE TABLE dropped (id bigint PRIMARY KEY, payload text);
});

sub set_tables
{
	my ($tables) = @_;
	query("ALTER SYSTEM SET convoy_backup.tables = '$tables'; SELECT pg_reload_conf();");
}

sub ids_of
{
	my ($table) = @_;
	return join ',', sort { $a <=> $b } map { $_->{id} } grep { $_->{payload} =~ /^\Q$table\E / }
	  object_rows($storage);
}

# --- (a) a walsender with the plugin survives a table list change ----------
{
	query("SELECT pg_create_logical_replication_slot('inspect', 'convoy_backup')");
	my $out = '';
	my $err = '';
	my $recv = start(
		[
			'pg_recvlogical', '--dbname' => $node->connstr('postgres'),
			'--slot'         => 'inspect',
			'--start', '--file' => '-', '--fsync-interval' => '0',
			'--status-interval' => '1', '--no-loop'
		],
		'>' => \$out,
		'2>' => \$err);
	ok(poll_until($node, "SELECT active FROM pg_replication_slots WHERE slot_name = 'inspect'"),
		'(a) pg_recvlogical streams from the slot');
	my $postmaster_pid = $node->safe_psql('postgres', 'SELECT pg_postmaster_start_time()');
	query(q{INSERT INTO kept VALUES (1, 'kept 1')});
	# Two reloads: the first frees the list the session started with, the
	# second's list may then be allocated where it was.
	set_tables('public.kept, public.dropped, public.other');
	usleep(300_000);
	set_tables('public.other');
	# Let the walsender process the reloads before the next changes reach it.
	usleep(500_000);
	query(q{CREATE TABLE other (id bigint PRIMARY KEY, payload text)});
	query(q{INSERT INTO other VALUES (1, 'other 1')});
	query(q{INSERT INTO dropped VALUES (1, 'dropped 1')});
	query(q{INSERT INTO kept VALUES (2, 'kept 2')});
	my $deadline = time() + 30;
	while (time() < $deadline && $out !~ /"kept 2"/)
	{
		$recv->pump_nb;
		usleep(100_000);
	}
	like($out, qr/"kept 2"/, '(a) rows inserted after the reload are decoded');
	like($out, qr/"dropped 1"/, '(a) the session keeps the table list it started with');
	unlike($out, qr/"other 1"/, '(a) a table of the reloaded list only is not decoded by the session');
	is($node->safe_psql('postgres', 'SELECT pg_postmaster_start_time()'),
		$postmaster_pid, '(a) the server was not restarted');
	unlike(slurp_file($node->logfile), qr/terminated by signal/, '(a) no process crashed');
	$recv->kill_kill;
	finish($recv);
	query("SELECT pg_drop_replication_slot('inspect')");
	set_tables('public.kept, public.dropped');
}

# --- (b) a reload that removes a table keeps rows committed before it ------
{
	my $offset = -s $node->logfile;
	# A large transaction first, so that decoding is still behind when the
	# reload arrives, then the row that must not be lost.
	query(q{INSERT INTO kept SELECT g, 'kept ' || g FROM generate_series(1000, 300000) g});
	query(q{INSERT INTO dropped VALUES (7, 'dropped 7')});
	set_tables('public.kept');
	ok( log_shows(
			$node,
			qr/convoy_backup backs up 1 table from [0-9A-F]+\/[0-9A-F]+ on/,
			$offset),
		'(b) the LSN from which the new table list applies is logged');
	ok(poll_until($node, q{SELECT count(*) = 0 FROM convoy_backup.convoy_backup_status()
	                        WHERE scope = 'public.dropped'}),
		'(b) the worker switched to the new list');
	query(q{INSERT INTO dropped VALUES (8, 'dropped 8')});
	query(q{INSERT INTO kept VALUES (400000, 'kept 400000')});
	ok( poll_until(
			$node, q{SELECT buffered_rows = 0 AND rows_written >= 299003
			          FROM convoy_backup.convoy_backup_status() WHERE scope = 'worker'}),
		'(b) everything decoded is written');
	is(ids_of('dropped'), '7', '(b) the row committed before the reload is backed up, the one after is not');
}

# --- (c) reloads do not postpone flushes -----------------------------------
{
	my $before = query(q{SELECT rows_written FROM convoy_backup.convoy_backup_status() WHERE scope = 'worker'});
	query(q{INSERT INTO kept VALUES (500000, 'kept 500000')});
	my $inserted = time();
	my $written_after;
	while (time() - $inserted < 14)
	{
		query('SELECT pg_reload_conf()');
		my $now = query(q{SELECT rows_written FROM convoy_backup.convoy_backup_status() WHERE scope = 'worker'});
		if (!defined $written_after && $now > $before)
		{
			$written_after = time() - $inserted;
		}
		usleep(1_000_000);
	}
	ok(defined $written_after && $written_after < 10,
		'(c) with a reload every second, the row is written within about one 4 s interval')
	  or diag('written after ' . ($written_after // 'never'));
	like(ids_of('kept'), qr/,500000$/, '(c) the row is in storage');
	# The status names the table's last object as stored, and the store.
	my ($last, $store) = split /\|/, query(q{SELECT last_object, store
	    FROM convoy_backup.convoy_backup_status() WHERE scope = 'public.kept'});
	ok(-f "$storage/$last", '(c) the status names the last object written') or diag $last;
	is($store, qq{local directory "$storage"}, '(c) and the store it went to');
}

# --- (d) a crash between the reload and the switch ---------------------------
{
	set_tables('public.kept, public.dropped');
	ok(poll_until($node, q{SELECT count(*) = 1 FROM convoy_backup.convoy_backup_status()
	                        WHERE scope = 'public.dropped'}),
		'(d) the worker backs up both tables again');
	my $offset = -s $node->logfile;
	query(q{INSERT INTO kept SELECT g, 'kept ' || g FROM generate_series(600000, 900000) g});
	query(q{INSERT INTO dropped VALUES (9, 'dropped 9')});
	set_tables('public.kept');
	ok(log_shows($node, qr/convoy_backup backs up 1 table from/, $offset), '(d) the reload was read');
	my $switched = slurp_file($node->logfile, $offset) =~ /now backs up 1 table\b/;
	$node->stop('immediate');
	ok(!$switched, '(d) the server crashed before decoding reached the reload\'s LSN');
	$node->start;
	ok( log_shows(
			$node, qr/convoy_backup now backs up 1 table\b.*\n.*DETAIL:  The list applies to transactions committed from/,
			$offset),
		'(d) after the restart, the switch still applies at the reload\'s LSN');
	ok(poll_until($node, q{SELECT buffered_rows = 0 FROM convoy_backup.convoy_backup_status() WHERE scope = 'worker'}),
		'(d) everything decoded is written');
	$node->stop('fast');
	is(ids_of('dropped'), '7,9', '(d) the row committed before the reload survived the crash');
	$node->start;
}

# --- (e) a failing write, fixed by a reload ----------------------------------
{
	my $not_a_directory = "$storage/not-a-directory";
	open(my $fh, '>', $not_a_directory) or die $!;
	close $fh;
	chmod 0644, $not_a_directory;
	query("ALTER SYSTEM SET convoy_backup.on_prem_path = '$not_a_directory'; SELECT pg_reload_conf()");
	my $before = query(q{SELECT rows_written FROM convoy_backup.convoy_backup_status() WHERE scope = 'worker'});
	query(q{INSERT INTO kept VALUES (950000, 'kept 950000')});
	ok( poll_until(
			$node, q{SELECT retry_count >= 5 AND next_retry > now() AND last_error IS NOT NULL
			           AND oldest_buffered_age > interval '0'
			          FROM convoy_backup.convoy_backup_status() WHERE scope = 'worker'}),
		'(e) the status shows the failing write: retries, next retry, oldest buffered row');
	my $next = query(q{SELECT extract(epoch FROM next_retry - now())
	                     FROM convoy_backup.convoy_backup_status() WHERE scope = 'worker'});
	query("ALTER SYSTEM SET convoy_backup.on_prem_path = '$storage'; SELECT pg_reload_conf()");
	my $fixed = time();
	ok(poll_until($node, qq{SELECT rows_written > $before AND retry_count = 0 AND next_retry IS NULL
	                          FROM convoy_backup.convoy_backup_status() WHERE scope = 'worker'}, 't', 30),
		'(e) after the reload the row is written and the status is clear');
	my $took = time() - $fixed;
	cmp_ok($took, '<', 3, "(e) at once after the reload, not after the backoff (next retry was ${next}s away)");
}

$node->stop('fast');
unlike(slurp_file($node->logfile), qr/terminated by signal/, 'no process crashed');
done_testing();
