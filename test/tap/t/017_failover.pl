
# Copyright (c) convoy_backup authors
#
# Failover (issue 13): a primary in cdc mode with a physical standby that
# streams from it; rows are inserted continuously, the primary is stopped hard
# (immediate mode, as a crash), the standby is promoted and the inserts go on
# there. Every row then is in storage exactly once:
#  - on PostgreSQL 17 and later the slot is a failover slot, which the standby
#    synchronizes (sync_replication_slots); after promotion the cdc worker goes
#    on from it, and the objects it writes again replace the former primary's
#    under the same names;
#  - PostgreSQL 15 has no failover slots: after promotion the worker creates a
#    new slot, and the rows committed between the former primary's last write
#    to storage and that slot are not backed up. The test measures that loss
#    window and reports it, and checks what still holds: no row twice, no row
#    committed once the new slot exists missing, and a WARNING that says so.
# Before the promotion, the standby's workers wait quietly (one LOG each, the
# status says why, no restart loop). The setting convoy_backup.failover is
# checked too: refused on 15, followed by the slot on 17+.
use strict;
use warnings;

use IPC::Run;
use Time::HiRes qw(usleep time);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib "$FindBin::RealBin/..";
use ConvoyBackupTap qw(poll_until server_conf object_rows log_shows count_in_log);

$PostgreSQL::Test::Utils::timeout_default = 120;

# Longer than bgw_restart_time (10 s): a restarted worker would have spoken again.
my $quiet_secs = 12;

my $storage    = PostgreSQL::Test::Utils::tempdir();
my $script_dir = PostgreSQL::Test::Utils::tempdir();

my $primary = PostgreSQL::Test::Cluster->new('primary');
my $failover_slots = $primary->pg_version >= 17;
note 'PostgreSQL ' . $primary->pg_version . ($failover_slots ? ': failover slots' : ': no failover slots');
$primary->init(allows_streaming => 'logical');
$primary->append_conf(
	'postgresql.conf', server_conf() . qq{
convoy_backup.database = 'postgres'
convoy_backup.on_prem_path = '$storage'
convoy_backup.interval = '1s'
convoy_backup.tables = 'convoy.events'
});
# Decoding of a failover slot does not get ahead of the standby.
$primary->append_conf('postgresql.conf', "synchronized_standby_slots = 'standby_slot'\n")
  if $failover_slots;
$primary->start;
ok(poll_until($primary, "SELECT count(*) = 1 FROM pg_replication_slots WHERE slot_name = 'convoy_backup'"),
	'primary: cdc slot created');
$primary->safe_psql(
	'postgres', q{
CREATE EXTENSION convoy_backup;
CREATE SCHEMA convoy;
CREATE TABLE convoy.events (id bigint PRIMARY KEY, phase text NOT NULL, created_at timestamptz DEFAULT now());
SELECT pg_create_physical_replication_slot('standby_slot', true);
});

# --- convoy_backup.failover ----------------------------------------------------
if ($failover_slots)
{
	is($primary->safe_psql('postgres', 'SHOW convoy_backup.failover'), 'on', 'failover is on by default');
	is($primary->safe_psql('postgres', "SELECT failover FROM pg_replication_slots WHERE slot_name = 'convoy_backup'"),
		't', 'the slot was created as a failover slot');
	my $offset = -s $primary->logfile;
	$primary->safe_psql('postgres', 'ALTER SYSTEM SET convoy_backup.failover = off; SELECT pg_reload_conf()');
	ok( poll_until(
			$primary, "SELECT NOT failover FROM pg_replication_slots WHERE slot_name = 'convoy_backup'"),
		'turned off: the worker alters the slot');
	ok(log_shows($primary, qr/made replication slot "convoy_backup" an ordinary slot/, $offset),
		'and logs it');
	$primary->safe_psql('postgres', 'ALTER SYSTEM RESET convoy_backup.failover; SELECT pg_reload_conf()');
	ok(poll_until($primary, "SELECT failover FROM pg_replication_slots WHERE slot_name = 'convoy_backup'"),
		'turned on again: a failover slot again');
	ok(log_shows($primary, qr/made replication slot "convoy_backup" a failover slot/, $offset), 'logged');
	sleep 2;
	is(count_in_log($primary, 'made replication slot "convoy_backup"', $offset), 2,
		'each change is logged once');
}
else
{
	is($primary->safe_psql('postgres', 'SHOW convoy_backup.failover'), 'off', 'failover is off on 15');
	my ($rc, $out, $err) =
	  $primary->psql('postgres', 'ALTER SYSTEM SET convoy_backup.failover = on');
	isnt($rc, 0, 'turning it on is refused');
	like($err, qr/convoy_backup\.failover requires PostgreSQL 17 or later/, 'with a message');
	like($err, qr/HINT:  Set convoy_backup\.failover = off\./, 'and a hint');
}

# --- the standby ---------------------------------------------------------------
$primary->backup('base');
my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($primary, 'base', has_streaming => 1);
# The slot synchronization worker connects to a database: name one.
my $conninfo = $primary->connstr('postgres') . ' application_name=standby';
$conninfo =~ s/'/''/g;
$standby->append_conf(
	'postgresql.conf', qq{
primary_conninfo = '$conninfo'
primary_slot_name = 'standby_slot'
hot_standby_feedback = on
});
# Once promoted, this server has no standby of its own to wait for.
$standby->append_conf('postgresql.conf', "sync_replication_slots = on\nsynchronized_standby_slots = ''\n")
  if $failover_slots;
$standby->start;
my $standby_started = time();

ok(log_shows($standby, qr/convoy_backup cdc worker waits for promotion: this server is a standby/),
	'standby: the cdc worker says it waits for promotion');
ok( poll_until(
		$standby,
		q{SELECT last_error LIKE '%standby%' FROM convoy_backup.convoy_backup_status() WHERE scope = 'worker'}),
	'standby: the status says why');

# --- rows inserted continuously on the primary, which then crashes ---------------
sub start_inserts
{
	my ($node, $name, $first_id, $txns) = @_;
	my $script = '';
	for my $t (0 .. $txns - 1)
	{
		my $first = $first_id + $t * 10;
		$script .= "INSERT INTO convoy.events (id, phase) SELECT g, '$name' FROM generate_series($first, "
		  . ($first + 9)
		  . ") g;\nSELECT pg_sleep(0.005);\n";
	}
	my $file = "$script_dir/$name.sql";
	append_to_file($file, $script);
	my ($out, $err) = ('', '');
	return IPC::Run::start([ 'psql', '-XAtq', '-d', $node->connstr('postgres'), '-f', $file ],
		'<', \undef, '>', \$out, '2>', \$err);
}

# More than can commit before the crash: it is cut off mid-way.
my $inserter = start_inserts($primary, 'primary', 1_000_000, 20_000);
my $synced_at;
ok( poll_until(
		$primary, q{SELECT rows_written > 0 FROM convoy_backup.convoy_backup_status() WHERE scope = 'worker'}),
	'primary: the worker writes objects while rows come in');
if ($failover_slots)
{
	ok( poll_until(
			$standby,
			"SELECT synced AND NOT temporary AND failover FROM pg_replication_slots WHERE slot_name = 'convoy_backup'"
		),
		'standby: the slot is synchronized');
	# The copy is synchronized every so often (up to 30 s apart on a quiet
	# server), so it may lag behind the primary's slot by a few batches. Stop
	# the synchronization to make it lag for sure: decoded again from there,
	# those batches would end at other rows than the former primary's (whose
	# objects would then stay beside the new ones) if the worker did not go on
	# from the last mark the former primary wrote into WAL.
	$standby->append_conf('postgresql.conf', "sync_replication_slots = off\n");
	$standby->reload;
	ok( poll_until(
			$standby, "SELECT count(*) = 0 FROM pg_stat_activity WHERE backend_type = 'slotsync worker'"),
		'standby: slot synchronization stopped');
	$synced_at = $standby->safe_psql('postgres',
		"SELECT confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = 'convoy_backup'");
	sleep 3;    # a few batches at an interval of 1 s
	cmp_ok(
		$primary->safe_psql('postgres',
			"SELECT confirmed_flush_lsn - '$synced_at' FROM pg_replication_slots WHERE slot_name = 'convoy_backup'"),
		'>', 0, "primary: the slot moved past the standby's copy ($synced_at)");
}
my $quiet_left = $quiet_secs - (time() - $standby_started);
sleep($quiet_left) if $quiet_left > 0;
usleep(int(rand(1_000_000)));
$primary->stop('immediate');
$inserter->finish;
note 'primary stopped while rows were inserted (psql exit ' . ($? >> 8) . ')';

is(count_in_log($standby, 'convoy_backup cdc worker waits for promotion'), 1,
	'standby: said once, no restart loop');
is(count_in_log($standby, 'waits for promotion'), 3,
	'standby: once by each worker (cdc, export scheduler and runner)');
unlike(slurp_file($standby->logfile), qr/(?:ERROR|FATAL):.*convoy_backup/,
	'standby: no error from the workers');

# --- promotion; the inserts go on ------------------------------------------------
my $offset = -s $standby->logfile;
$standby->promote;
my $promoted_inserter = start_inserts($standby, 'promoted', 2_000_000, 300);
ok(log_shows($standby, qr/convoy_backup cdc worker started decoding replication slot "convoy_backup"/, $offset),
	'promoted: the cdc worker decodes');
$promoted_inserter->finish;
is($? >> 8, 0, 'promoted: inserts right after the promotion committed');
# Committed once the worker decodes: backed up on every version.
my $after_inserter = start_inserts($standby, 'after', 3_000_000, 100);
$after_inserter->finish;
is($? >> 8, 0, 'promoted: later inserts committed');

my $final_lsn = $standby->safe_psql('postgres', 'SELECT pg_current_wal_lsn()');
ok( poll_until(
		$standby, qq{
SELECT buffered_rows = 0 AND confirmed_lsn >= '$final_lsn' AND last_error IS NULL
FROM convoy_backup.convoy_backup_status() WHERE scope = 'worker'}),
	'promoted: the backup caught up, with no error');

# --- what storage holds ------------------------------------------------------------
my %in_storage;
$in_storage{ $_->{id} }++ for object_rows($storage);
my %in_table = map { $_ => 1 } split /\n/,
  $standby->safe_psql('postgres', 'SELECT id FROM convoy.events ORDER BY id');
my @twice   = grep { $in_storage{$_} > 1 } sort { $a <=> $b } keys %in_storage;
my @extra   = grep { !$in_table{$_} } sort { $a <=> $b } keys %in_storage;
my @missing = grep { !$in_storage{$_} } sort { $a <=> $b } keys %in_table;
my %phase_rows;
$phase_rows{ int($_ / 1_000_000) }++ for keys %in_table;
note "table: $phase_rows{1} rows from the former primary, $phase_rows{2} right after the promotion, "
  . "$phase_rows{3} later; storage: " . scalar(keys %in_storage) . ' distinct ids';
cmp_ok($phase_rows{1}, '>', 0, 'rows of the former primary reached the standby');

is(scalar(@twice), 0, 'no row is in storage twice') or diag "ids stored twice: @twice[0 .. min(9, $#twice)]";
is(scalar(grep { $_ >= 3_000_000 && !$in_storage{$_} } keys %in_table),
	0, 'every row committed once the promoted worker decodes is in storage');

if ($failover_slots)
{
	is(scalar(@missing), 0, 'every row is in storage (none lost in the failover)')
	  or diag "missing: " . ranges(@missing);
	is(scalar(@extra), 0, 'storage holds no row the promoted server does not have')
	  or diag "extra: " . ranges(@extra);
	my $log = slurp_file($standby->logfile, $offset);
	unlike($log, qr/created logical replication slot/, 'the synchronized slot was used, not a new one');
	like($log, qr/convoy_backup moved replication slot "convoy_backup" forward from \Q$synced_at\E to /,
		'it went on from the last mark, past its lagging position');
	unlike($log, qr/WARNING:.*convoy_backup/, 'no warning');
	is($standby->safe_psql('postgres',
			"SELECT failover FROM pg_replication_slots WHERE slot_name = 'convoy_backup'"),
		't', 'the slot is still a failover slot, for the next failover');

	# A standby named in synchronized_standby_slots that is not there: writing
	# waits (nothing may reach storage that such a standby might lack), says
	# so once, and goes on when the setting no longer names it.
	$standby->safe_psql('postgres', "SELECT pg_create_physical_replication_slot('absent_standby')");
	my $wait_offset = -s $standby->logfile;
	$standby->safe_psql('postgres',
		"ALTER SYSTEM SET synchronized_standby_slots = 'absent_standby'; SELECT pg_reload_conf()");
	$standby->safe_psql('postgres', "INSERT INTO convoy.events (id, phase) VALUES (4000000, 'held')");
	ok( poll_until(
			$standby, q{
SELECT last_error LIKE 'writing waits for the standbys of synchronized_standby_slots to receive WAL up to %'
FROM convoy_backup.convoy_backup_status() WHERE scope = 'worker'}, 't', 30),
		'a standby that is not there: the status says writing waits for it');
	ok(log_shows($standby, qr/LOG:  convoy_backup cdc worker writing waits for the standbys of synchronized_standby_slots/, $wait_offset),
		'so does the log');
	like(slurp_file($standby->logfile, $wait_offset),
		qr/replication slot "absent_standby" specified in parameter "synchronized_standby_slots" does not have active_pid/,
		"with the server's own words about the standby slot");
	is(scalar(grep { $_->{id} == 4000000 } object_rows($storage)), 0, 'the row waits');
	$standby->safe_psql('postgres', 'ALTER SYSTEM RESET synchronized_standby_slots; SELECT pg_reload_conf()');
	ok( poll_until(
			$standby,
			q{SELECT last_error IS NULL AND buffered_rows = 0 FROM convoy_backup.convoy_backup_status() WHERE scope = 'worker'}),
		'once the setting no longer names it, the write goes on');
	ok(log_shows($standby, qr/convoy_backup cdc worker writes again/, $wait_offset), 'and says so');
	is(count_in_log($standby, 'LOG:  convoy_backup cdc worker writing waits', $wait_offset), 1, 'the wait was said once');
	is(scalar(grep { $_->{id} == 4000000 } object_rows($storage)), 1, 'the row is in storage once');
}
else
{
	# Expected on 15, and documented ("Failover" in docs/operations.md): the
	# standby has no copy of the slot, so the rows committed after the former
	# primary's last write to storage, up to the new slot, are not backed up.
	# Measured here, not asserted: how many depends on when the crash came.
	diag 'PostgreSQL 15 loss window: ' . scalar(@missing) . ' of ' . scalar(keys %in_table)
	  . ' rows not backed up: ' . ranges(@missing);
	diag 'rows in storage that the promoted server does not have (written by the former '
	  . 'primary, never replicated): ' . ranges(@extra)
	  if @extra;
	ok(log_shows($standby, qr/WARNING:  convoy_backup created a new replication slot "convoy_backup" after this server was promoted/, $offset),
		'a WARNING says a new slot was created after the promotion');
	ok(log_shows($standby, qr/DETAIL:  The backup goes on from [0-9A-F]+\/[0-9A-F]+\. Rows committed before that position that the former primary had not written to storage when it stopped are not in the backup: PostgreSQL 15 does not synchronize replication slots to standbys\./, $offset),
		'its detail says which rows are lost and why');
	is(count_in_log($standby, 'after this server was promoted', $offset), 1, 'said once');
}

$standby->stop('fast');

# "a-b c d-e" for a sorted list of ids.
sub ranges
{
	my @ids = @_;
	return 'none' unless @ids;
	my @out;
	my ($start, $prev) = ($ids[0], $ids[0]);
	for my $id (@ids[1 .. $#ids], undef)
	{
		if (defined $id && $id == $prev + 1) { $prev = $id; next; }
		push @out, $start == $prev ? $start : "$start-$prev";
		($start, $prev) = ($id, $id);
	}
	return join(' ', @out);
}

sub min { return $_[0] < $_[1] ? $_[0] : $_[1] }

done_testing();
