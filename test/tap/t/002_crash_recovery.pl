
# Copyright (c) convoy_backup authors
#
# Crash recovery: while transactions commit continuously and the cdc worker
# flushes every second, the postmaster and all its children are killed with
# SIGKILL at once (as in a power loss), and the server is started again.
# Afterwards the objects hold every committed row exactly once: rows written
# but not yet confirmed are decoded again and rewritten under the same keys.
use strict;
use warnings;

use File::Find;
use File::Spec;
use IPC::Run;
use Time::HiRes qw(usleep time);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib "$FindBin::RealBin/..";
use ConvoyBackupTap qw(poll_until server_conf manifest_problems);

my $wait_secs = 60;
$PostgreSQL::Test::Utils::timeout_default = $wait_secs;

my $rounds          = 3;
# More than can commit before the kill: every round is interrupted mid-way.
my $txns_per_round  = 1000;
my $rows_per_txn    = 500;


# A process is gone once it has been reaped: even a zombie postmaster keeps
# a new one from starting (its pid in postmaster.pid still answers kill 0).
sub pid_exists
{
	my ($pid) = @_;
	return -e "/proc/$pid";
}

sub children_of
{
	my ($ppid) = @_;
	my @kids;
	opendir my $dh, '/proc' or die "cannot read /proc: $!";
	for my $pid (grep { /^\d+$/ } readdir $dh)
	{
		open my $fh, '<', "/proc/$pid/stat" or next;
		my $stat = <$fh>;
		close $fh;
		next unless defined $stat;
		my ($parent) = $stat =~ /^\d+ \(.*\) \S (\d+)/s;
		push @kids, $pid if defined $parent && $parent == $ppid;
	}
	closedir $dh;
	return @kids;
}

# SIGKILL to the postmaster and all its children in one kill(2) sweep, then
# wait until every one of them is gone. $moment, if given, is called after
# the processes are collected and returns when it is time to kill (no new
# connections are made in between).
sub power_loss
{
	my ($node, $moment) = @_;
	my $pm;
	open my $fh, '<', $node->data_dir . '/postmaster.pid'
	  or die "no postmaster.pid: $!";
	chomp($pm = <$fh>);
	close $fh;
	my @kids = children_of($pm);
	my $worker_running = grep { cmdline($_) =~ /convoy_backup cdc worker/ } @kids;
	$moment->() if $moment;
	kill 'KILL', $pm, @kids;
	note "killed postmaster $pm and children @kids";
	# Tell the framework the node is down (it sends another, harmless SIGKILL).
	$node->kill9;
	my $deadline = time() + $wait_secs;
	while (grep { pid_exists($_) } ($pm, @kids))
	{
		die "processes survived SIGKILL" if time() > $deadline;
		usleep(50_000);
	}
	return (scalar(@kids), $worker_running);
}

sub cmdline
{
	my ($pid) = @_;
	open my $fh, '<', "/proc/$pid/cmdline" or return '';
	local $/;
	my $c = <$fh>;
	close $fh;
	return defined $c ? $c : '';
}

# Whether a temporary object file (an object being written) exists right now.
sub temp_file_present
{
	my ($dir) = @_;
	my $found = 0;
	find(sub { $found = 1 if /^\..*\.tmp$/ }, $dir);
	return $found;
}

my $storage    = PostgreSQL::Test::Utils::tempdir();
my $script_dir = PostgreSQL::Test::Utils::tempdir();
my $node    = PostgreSQL::Test::Cluster->new('crash');
$node->init(allows_streaming => 'logical');
$node->append_conf(
	'postgresql.conf', server_conf() . qq{
shared_buffers = 32MB
convoy_backup.database = 'postgres'
convoy_backup.on_prem_path = '$storage'
convoy_backup.interval = '1s'
convoy_backup.buffer_size = '8MB'
convoy_backup.tables = 'convoy.events'
});
$node->start;

ok( poll_until(
		$node,
		"SELECT count(*) = 1 FROM pg_replication_slots WHERE slot_name = 'convoy_backup' AND plugin = 'convoy_backup'"
	),
	'cdc worker created its slot');
my $initial_confirmed = $node->safe_psql('postgres',
	"SELECT confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = 'convoy_backup'");
$node->safe_psql(
	'postgres', q{
CREATE EXTENSION convoy_backup;
CREATE SCHEMA convoy;
CREATE TABLE convoy.events (
    id bigint PRIMARY KEY,
    payload text,
    created_at timestamptz DEFAULT now()
);
});

for my $round (1 .. $rounds)
{
	# A psql session that commits $txns_per_round transactions, 10 ms apart.
	my $base = $round * 1_000_000;
	my $script = '';
	for my $t (0 .. $txns_per_round - 1)
	{
		my $first = $base + $t * $rows_per_txn;
		my $last  = $first + $rows_per_txn - 1;
		$script .= "INSERT INTO convoy.events (id, payload) "
		  . "SELECT g, md5(g::text) || repeat('p', (g % 97)::int) FROM generate_series($first, $last) g;\n"
		  . "SELECT pg_sleep(0.01);\n";
	}
	# (From a file: IPC::Run feeds a scalar only while it is pumped.)
	my $script_file = "$script_dir/round$round.sql";
	append_to_file($script_file, $script);
	my ($out, $err) = ('', '');
	my $inserter = IPC::Run::start(
		[ 'psql', '-XAtq', '-d', $node->connstr('postgres'), '-f', $script_file ],
		'<', \undef, '>', \$out, '2>', \$err);

	# Kill once the worker has written objects in this server lifetime (the
	# counters start at 0 after every start) while rows are still coming in.
	my $flushed = poll_until($node,
		q{SELECT rows_written > 0 FROM convoy_backup.convoy_backup_status() WHERE scope = 'worker'});
	ok($flushed, "round $round: worker flushes while rows are inserted");
	my $committed_before = $node->safe_psql('postgres', 'SELECT count(*) FROM convoy.events');
	my $moment;
	if ($round == 2)
	{
		# Aim at the middle of an object write: kill as soon as a temporary
		# file shows up (or after 5 s).
		$moment = sub {
			my $deadline = time() + 5;
			my $seen = 0;
			until ($seen || time() > $deadline)
			{
				$seen = temp_file_present($storage);
				usleep(500) unless $seen;
			}
			note "round $round: " . ($seen ? 'killing during an object write' : 'no temporary file seen');
		};
	}
	else
	{
		$moment = sub { usleep(int(rand(800_000))) };
	}
	my ($kids, $worker_running) = power_loss($node, $moment);
	cmp_ok($kids, '>=', 4, "round $round: killed the postmaster with its $kids children at once");
	ok($worker_running, "round $round: the cdc worker was among them");
	$inserter->finish;
	isnt($? >> 8, 0, "round $round: the inserting session was cut off mid-way");
	note "round $round: committed before kill >= $committed_before; psql: $err";

	$node->start;
	my $after = $node->safe_psql('postgres', 'SELECT count(*) FROM convoy.events');
	cmp_ok($after, '>=', $committed_before,
		"round $round: committed rows survived the crash ($after)");
}

# A last batch after the final restart, then let everything drain.
$node->safe_psql('postgres',
	q{INSERT INTO convoy.events (id, payload) SELECT g, 'final' FROM generate_series(9000001, 9001000) g});
my $final_lsn = $node->safe_psql('postgres', 'SELECT pg_current_wal_lsn()');
ok( poll_until(
		$node, qq{
SELECT buffered_rows = 0 AND confirmed_lsn >= '$final_lsn'
FROM convoy_backup.convoy_backup_status() WHERE scope = 'worker'}),
	'worker drained: nothing buffered, slot confirmed past the last commit');

# Quiet period: the counters must not move any more.
my $quiet_query = q{SELECT rows_written || '/' || objects_written || '/' || buffered_rows
FROM convoy_backup.convoy_backup_status() WHERE scope = 'worker'};
my $before_quiet = $node->safe_psql('postgres', $quiet_query);
sleep 3;
is($node->safe_psql('postgres', $quiet_query), $before_quiet, 'no writes during a quiet period');

# --- Read every object back -----------------------------------------------
my (@objects, @temps, @strays, @manifests);
find(
	{
		no_chdir => 1,
		wanted   => sub {
			return unless -f $_;
			my $rel  = File::Spec->abs2rel($_, $storage);
			my $base = (File::Spec->splitpath($_))[2];
			if ($base =~ /^\..*\.tmp$/) { push @temps, $rel; }
			elsif ($rel =~ m{^backup/(\d{4}-\d{2}-\d{2})/convoy\.events/\1T\d{2}:\d{2}:\d{2}\.\d{6}Z_[0-9A-F]{16}(?:_\d{20})?\.jsonl\.gz$})
			{
				push @objects, $rel;
			}
			elsif ($rel =~ m{^backup/(\d{4}-\d{2}-\d{2})/convoy\.events/\1T\d{2}:\d{2}:\d{2}\.\d{6}Z_[0-9A-F]{16}(?:_\d{20})?\.manifest\.json$})
			{
				push @manifests, $rel;
			}
			else { push @strays, $rel; }
		}
	},
	$storage);
note scalar(@temps) . " temporary files left by the crashes";
is(scalar(@strays), 0, 'every file is an object, a manifest or a temporary file')
  or diag join("\n", @strays);
cmp_ok(scalar(@objects), '>', 0, 'objects were written');
# Whatever the crashes interrupted, once the slot has moved past every row
# each object has a manifest that describes the object as it is now.
# (Times are checked by TAP 016; here the sizes and checksums.)
my ($manifest_problems) = manifest_problems($storage);
is_deeply($manifest_problems, [], 'every object has a manifest that describes it exactly');
is(scalar(@manifests), scalar(@objects), 'one manifest per object');

my $load = q{
CREATE TABLE stage (line text);
CREATE TABLE got (file text, id bigint, j jsonb);
};
for my $rel (sort @objects)
{
	my $path = "$storage/$rel";
	die "unexpected quote in $path" if $path =~ /'/;
	$load .= qq{
COPY stage FROM PROGRAM 'gzip -dc ''$path''' WITH (FORMAT csv, QUOTE E'\\x01', DELIMITER E'\\x02');
INSERT INTO got SELECT '$rel', (line::jsonb->>'id')::bigint, line::jsonb FROM stage;
TRUNCATE stage;
};
}
$node->safe_psql('postgres', $load);

my $table_rows = $node->safe_psql('postgres', 'SELECT count(*) FROM convoy.events');
my ($lines, $distinct) = split /\|/,
  $node->safe_psql('postgres', 'SELECT count(*), count(DISTINCT id) FROM got');
note "table rows $table_rows, object lines $lines, distinct ids $distinct";
is($node->safe_psql('postgres', 'SELECT count(DISTINCT id / 1000000) FROM convoy.events WHERE id < 9000000'),
	$rounds, 'rows were committed in every round');
is($node->safe_psql('postgres',
		'SELECT count(*) FROM convoy.events e WHERE NOT EXISTS (SELECT FROM got g WHERE g.id = e.id)'),
	0, 'no loss: every committed row is in the objects');
is($lines, $distinct, 'no duplicates: every id appears once');
is($distinct, $table_rows, 'objects hold exactly the committed rows');
is($node->safe_psql('postgres',
		'SELECT count(*) FROM got g WHERE NOT EXISTS (SELECT FROM convoy.events e WHERE e.id = g.id)'),
	0, 'no rows of aborted transactions in the objects');
is( $node->safe_psql(
		'postgres', q{
SET timezone = 'UTC';
SELECT count(*) FROM got g JOIN convoy.events e USING (id) WHERE g.j <> to_jsonb(e)}),
	0,
	'every line equals to_jsonb of its row');
my $dup = $node->safe_psql('postgres',
	'SELECT id, string_agg(file, \' \') FROM got GROUP BY id HAVING count(*) > 1 LIMIT 5');
diag "duplicated ids:\n$dup" if $dup ne '';

# Whole transactions: ids of one 500-row transaction are never split between
# a written and a lost part (every transaction is complete or absent).
is( $node->safe_psql(
		'postgres', qq{
SELECT count(*) FROM (
  SELECT (id - 1000000 * (id / 1000000)) / $rows_per_txn AS txn, id / 1000000 AS round, count(*) AS n
  FROM got WHERE id < 9000000 GROUP BY 1, 2) t
WHERE n <> $rows_per_txn}),
	0,
	'every transaction is complete in the objects');

is( $node->safe_psql(
		'postgres', qq{
SELECT count(*) = 1 AND bool_and(confirmed_flush_lsn > '$initial_confirmed' AND confirmed_flush_lsn >= '$final_lsn')
FROM pg_replication_slots WHERE slot_name = 'convoy_backup' AND plugin = 'convoy_backup'}),
	't',
	'slot still exists and its confirmed position advanced');

my $log = slurp_file($node->logfile);
my $starts = () = $log =~ /convoy_backup cdc worker started decoding replication slot "convoy_backup"/g;
is($starts, $rounds + 1, 'worker started decoding after every start');
unlike($log, qr/terminated by signal/, 'no server process crashed on its own');
unlike($log, qr/convoy_backup could not write backup object/, 'no write errors');

$node->stop('fast');
done_testing();
