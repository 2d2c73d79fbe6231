
# Copyright (c) convoy_backup authors
#
# Export mode against what a table owner or a session could do to it:
#
# (a) the runner reads each table as the table's owner: a table that an ON
#     SELECT rule turned into a view is refused, and the cast and row-level
#     security policy of an ordinary table run as its owner, with search_path
#     pinned; the owner never becomes a superuser;
# (b) convoy_backup_export() refuses to run on a standby;
# (c) a window is exported only once every transaction that was open when it
#     was settled has ended, including those of sessions with
#     track_activities = off (which pg_stat_activity shows without xact_start)
#     and prepared ones: convoy_backup_export() waits for them (under
#     lock_timeout), and so does the runner, serving reloads and terminations
#     meanwhile; transactions that pg_stat_activity shows as begun after the
#     window's end are not waited for.
use strict;
use warnings;

use IPC::Run;
use Time::HiRes qw(usleep time);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib "$FindBin::RealBin/..";
use ConvoyBackupTap qw(poll_until server_conf);

my $wait_secs = 60;
$PostgreSQL::Test::Utils::timeout_default = $wait_secs;
my $test_start = time();
my $storage    = PostgreSQL::Test::Utils::tempdir();

# In cdc mode the runner runs only manual jobs: those of this test.
my $node = PostgreSQL::Test::Cluster->new('hardening');
$node->init(allows_streaming => 1);
$node->append_conf(
	'postgresql.conf', server_conf() . qq{
convoy_backup.mode = 'cdc'
convoy_backup.database = 'postgres'
convoy_backup.on_prem_path = '$storage'
convoy_backup.tables = 'plain.events'
max_prepared_transactions = 5
});
$node->start;

sub query { return $node->safe_psql('postgres', $_[0]); }

sub set_tables
{
	my ($tables) = @_;
	query("ALTER SYSTEM SET convoy_backup.tables = '$tables'; SELECT pg_reload_conf()");
	# The workers read the new list when they next wake.
	usleep(1_000_000);
}

# Queues a manual job of [start, end) and waits until it has completed or its
# first attempt failed; returns its id.
sub run_manual_job
{
	my ($start, $end) = @_;
	my $job = query("SELECT convoy_backup.convoy_backup_trigger('$start', '$end')");
	poll_until($node,
		"SELECT status = 'completed' OR error IS NOT NULL FROM convoy_backup.jobs WHERE id = $job")
	  or die "job $job neither completed nor failed";
	return $job;
}

# The lines of the object a completed job wrote for $table.
sub object_lines
{
	my ($job, $table) = @_;
	my $key = query("SELECT tables -> '$table' ->> 'key' FROM convoy_backup.jobs WHERE id = $job");
	open my $gz, '-|', 'gzip', '-dc', "$storage/$key" or die "cannot read $key: $!";
	my @lines = <$gz>;
	close $gz or die "gzip -dc $key failed";
	chomp @lines;
	return @lines;
}

query(
	q{
CREATE SCHEMA plain;
CREATE TABLE plain.events (id int, created_at timestamptz NOT NULL DEFAULT now());
CREATE EXTENSION convoy_backup;
});

#
# (a) The runner reads each table as its owner.
#
# The owner's code of sql/include/table_owner_code.sql.
query(slurp_file("$FindBin::RealBin/../../../sql/include/table_owner_code.sql")
	  . "INSERT INTO plain.events VALUES (1, '2026-01-01 00:45+00');");

set_tables('mal.events');
my $job = run_manual_job('2026-01-01 00:00+00', '2026-01-01 01:00+00');
like(query("SELECT error FROM convoy_backup.jobs WHERE id = $job"),
	qr/^cannot export relation mal\.events$/, '(a) the runner refuses a table turned into a view');
is(query("SELECT rolsuper FROM pg_roles WHERE rolname = 'regress_convoy_mallory'"), 'f',
	'(a) the view did not make its owner a superuser');
ok(!$node->log_contains(qr/the view runs as/), '(a) nothing of the view ran');
query("UPDATE convoy_backup.jobs SET status = 'failed' WHERE id = $job");

# The owners differ from table to table; the job is recorded afterwards as the
# runner's own user again.
set_tables('mal.stamped, mal.guarded, plain.events');
$job = run_manual_job('2026-01-01 00:00+00', '2026-01-01 01:00+00');
is( query(
		"SELECT status || ' ' || coalesce(error, '') FROM convoy_backup.jobs WHERE id = $job"),
	'completed ', '(a) the job of the cast, the policy and a superuser\'s table completes');
is(query("SELECT rolsuper FROM pg_roles WHERE rolname = 'regress_convoy_mallory'"), 'f',
	'(a) the cast and the policy did not make their owner a superuser');
ok($node->log_contains(qr/the cast runs as regress_convoy_mallory, search_path pg_catalog, pg_temp/),
	'(a) the cast ran as the owner with search_path pinned');
ok($node->log_contains(qr/the policy runs as regress_convoy_mallory, search_path pg_catalog, pg_temp/),
	'(a) the policy ran as the owner with search_path pinned');
is(scalar(object_lines($job, 'mal.guarded')), 1, '(a) the owner\'s policy applies to the export');
is(join(',', map { /"id":\s*(\d+)/ ? $1 : '?' } object_lines($job, 'plain.events')), '1',
	'(a) the superuser\'s table is exported too');

#
# (b) A standby cannot tell when the primary's transactions have ended.
#
$node->backup('base');
my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($node, 'base', has_streaming => 1);
$standby->start;
$node->wait_for_catchup($standby);
my ($rc, $out, $err) = $standby->psql('postgres',
	"SELECT * FROM convoy_backup.convoy_backup_export('2026-01-01 00:00+00', '2026-01-01 01:00+00')");
like($err, qr/ERROR:  cannot execute convoy_backup_export\(\) during recovery/,
	'(b) convoy_backup_export() refuses to run on a standby');
like($err, qr/HINT:  Call it on the primary server\./, '(b) the refusal says where to call it');
$standby->stop;

#
# (c) Transactions that pg_stat_activity does not show.
#
set_tables('plain.events');

# A session with track_activities = off begins a transaction and inserts a row
# (created_at = now()) that it does not commit yet. Returns the psql handle, its
# input, and the window of the row's second (no other case's row is in it).
sub open_hidden_transaction
{
	my ($id, $prepare) = @_;
	my ($in, $out, $err) = ('', '', '');
	my $h = IPC::Run::start(
		[ 'psql', '-XAtq', '-v', 'ON_ERROR_STOP=1', '-d', $node->connstr('postgres') ],
		'<', \$in, '>', \$out, '2>', \$err, IPC::Run::timeout($wait_secs));
	$in .= "SET track_activities = off;\nBEGIN;\n"
	  . "INSERT INTO plain.events (id) VALUES ($id) RETURNING 'window',"
	  . " date_trunc('second', created_at),"
	  . " date_trunc('second', created_at) + interval '1 second';\n"
	  . ($prepare ? "PREPARE TRANSACTION 'hidden$id';\n" : '');
	$h->pump until $out =~ /^window\|(.+)\|(.+)$/m;
	my ($start, $end) = $out =~ /^window\|(.+)\|(.+)$/m;
	poll_until($node, "SELECT now() > '$end'") or die "the window never ended";
	return ($h, \$in, $start, $end);
}

sub finish_session
{
	my ($h, $in, $sql) = @_;
	$$in .= "$sql\n\\q\n";
	$h->finish;
}

# convoy_backup_export() in a session of its own (application_name $name).
sub start_export
{
	my ($name, $start, $end, @settings) = @_;
	my %result = (out => '', err => '');
	local $ENV{PGAPPNAME} = $name;
	my $h = IPC::Run::start(
		[
			'psql', '-XAtq', '-d', $node->connstr('postgres'),
			(map { ('-c', $_) } @settings),
			'-c', "SELECT rows FROM convoy_backup.convoy_backup_export('$start', '$end')"
		],
		'<', \undef, '>', \$result{out}, '2>', \$result{err}, IPC::Run::timeout($wait_secs));
	return ($h, \%result);
}

my $export_waits = "SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE application_name = '%s'";

# The synchronous export, in a REPEATABLE READ transaction of its own whose
# snapshot is taken before it waits.
my ($hidden, $hidden_in, $start, $end) = open_hidden_transaction(-1, 0);
my ($export, $result) = start_export('export_c1', $start, $end,
	"SET default_transaction_isolation = 'repeatable read'");
ok(poll_until($node, sprintf($export_waits, 'export_c1'), 't', 10),
	'(c) convoy_backup_export() waits for a transaction of a session with track_activities = off');
finish_session($hidden, $hidden_in, 'COMMIT;');
$export->finish;
is($result->{out} . $result->{err}, "1\n",
	'(c) its object has the row committed after the export was called');

# A prepared transaction: its session is gone.
($hidden, $hidden_in, $start, $end) = open_hidden_transaction(-2, 1);
finish_session($hidden, $hidden_in, '');
($export, $result) = start_export('export_c2', $start, $end);
ok(poll_until($node, sprintf($export_waits, 'export_c2'), 't', 10),
	'(c) convoy_backup_export() waits for a prepared transaction');
query("COMMIT PREPARED 'hidden-2'");
$export->finish;
is($result->{out} . $result->{err}, "1\n", '(c) its object has the prepared row');

# lock_timeout bounds the wait.
($hidden, $hidden_in, $start, $end) = open_hidden_transaction(-3, 0);
($export, $result) = start_export('export_c3', $start, $end, "SET lock_timeout = '200ms'");
$export->finish;
like($result->{err}, qr/ERROR:  canceling statement due to lock timeout\n.*CONTEXT:  while waiting for the transactions open when the window ending at .* was settled/s,
	'(c) lock_timeout ends the wait, with a context line saying what it waited for');
finish_session($hidden, $hidden_in, 'ROLLBACK;');

# A transaction that pg_stat_activity shows as begun after the window's end is
# not waited for.
($hidden, $hidden_in, $start, $end) = open_hidden_transaction(-5, 0);
finish_session($hidden, $hidden_in, 'COMMIT;');
my ($later_in, $later_out, $later_err) = ('', '', '');
my $later = IPC::Run::start(
	[ 'psql', '-XAtq', '-v', 'ON_ERROR_STOP=1', '-d', $node->connstr('postgres') ],
	'<', \$later_in, '>', \$later_out, '2>', \$later_err, IPC::Run::timeout($wait_secs));
$later_in .= "BEGIN;\nSELECT 'began', now() > '$end';\n";
$later->pump until $later_out =~ /^began\|t$/m;
($export, $result) = start_export('export_c4', $start, $end, "SET lock_timeout = '200ms'");
$export->finish;
is($result->{out} . $result->{err}, "1\n",
	'(c) convoy_backup_export() does not wait for a transaction that began after the window\'s end');
finish_session($later, \$later_in, 'COMMIT;');

# The runner.
($hidden, $hidden_in, $start, $end) = open_hidden_transaction(-4, 0);
$job = query("SELECT convoy_backup.convoy_backup_trigger('$start', '$end')");
ok(poll_until($node, "SELECT status = 'running' FROM convoy_backup.jobs WHERE id = $job"),
	'(c) the runner claims the job of the window');
usleep(3_000_000);
is(query("SELECT status FROM convoy_backup.jobs WHERE id = $job"), 'running',
	'(c) the job waits for the transaction of a session with track_activities = off');
ok($node->log_contains(qr/convoy_backup export job $job waits for 1 open transaction\b/),
	'(c) the log says what the job waits for');
# A reload while it waits is served: the export uses the new list of tables.
query('CREATE TABLE plain.more (id int, created_at timestamptz)');
set_tables('plain.events, plain.more');
finish_session($hidden, $hidden_in, 'COMMIT;');
ok(poll_until($node, "SELECT status FROM convoy_backup.jobs WHERE id = $job", 'completed'),
	'(c) the job completes once the transaction has committed');
is(join(',', map { /"id":\s*(-?\d+)/ ? $1 : '?' } object_lines($job, 'plain.events')), '-4',
	'(c) its object has the row committed after the job was queued');
is(query("SELECT tables ? 'plain.more' FROM convoy_backup.jobs WHERE id = $job"), 't',
	'(c) the runner served a reload while it waited');

# A waiting runner stops at once when terminated; its successor takes the job.
($hidden, $hidden_in, $start, $end) = open_hidden_transaction(-6, 0);
$job = query("SELECT convoy_backup.convoy_backup_trigger('$start', '$end')");
poll_until($node, "SELECT status = 'running' FROM convoy_backup.jobs WHERE id = $job")
  or die "job $job was not claimed";
my $runner = query("SELECT claimed_by FROM convoy_backup.jobs WHERE id = $job");
query("SELECT pg_terminate_backend($runner)");
ok(poll_until($node, "SELECT count(*) = 0 FROM pg_stat_activity WHERE pid = $runner", 't', 5),
	'(c) a runner waiting for open transactions stops when terminated');
finish_session($hidden, $hidden_in, 'COMMIT;');
ok(poll_until($node, "SELECT status FROM convoy_backup.jobs WHERE id = $job", 'completed'),
	'(c) the next runner completes the job');

$node->stop;
note sprintf('test took %.0f s', time() - $test_start);
done_testing();
