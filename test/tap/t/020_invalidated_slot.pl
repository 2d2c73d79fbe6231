
# Copyright (c) convoy_backup authors
#
# A slot the server invalidated (max_slot_wal_keep_size) stops the cdc worker
# with one message naming the slot and what to do, shown in
# convoy_backup_status(), instead of an ERROR every 10 seconds. How the server
# marks such a slot differs between majors (15 clears its restart_lsn, 16 and
# later record the cause), so this runs on each of them.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib "$FindBin::RealBin/..";
use ConvoyBackupTap qw(poll_until start_cdc_node log_shows count_in_log);

# Longer than bgw_restart_time (10 s): a restarted worker would have spoken again.
my $quiet_secs = 12;

my $storage = PostgreSQL::Test::Utils::tempdir();
my $node = start_cdc_node('invalidated', $storage, interval => '1s', tables => 'public.t');
$node->safe_psql('postgres', 'CREATE EXTENSION convoy_backup; CREATE TABLE t (id int)');

# Without the worker (mode off) nothing consumes the slot: the WAL written
# meanwhile outgrows max_slot_wal_keep_size and a checkpoint invalidates it.
$node->append_conf('postgresql.conf', qq{
convoy_backup.mode = 'off'
max_slot_wal_keep_size = '1MB'
wal_keep_size = 0
});
$node->restart;
for (1 .. 4)
{
	$node->safe_psql('postgres',
		'INSERT INTO t SELECT g FROM generate_series(1, 20000) g; SELECT pg_switch_wal()');
}
$node->safe_psql('postgres', 'CHECKPOINT');
ok( poll_until(
		$node,
		"SELECT wal_status FROM pg_replication_slots WHERE slot_name = 'convoy_backup'",
		'lost'),
	'the server invalidated the slot');

my $offset = -s $node->logfile;
$node->append_conf('postgresql.conf', "convoy_backup.mode = 'cdc'\n");
$node->restart;
my $message = 'convoy_backup cdc worker cannot start: replication slot "convoy_backup" has been invalidated';
ok(log_shows($node, qr/\Q$message\E/, $offset), 'the cdc worker says the slot has been invalidated');
like(
	slurp_file($node->logfile, $offset),
	qr/\Q$message\E\n.*HINT:  .*max_slot_wal_keep_size.*Drop the slot and restart the server/,
	'with a hint that says what was lost and what to do');
is( $node->safe_psql('postgres',
		"SELECT last_error FROM convoy_backup.convoy_backup_status() WHERE scope = 'worker'"),
	'replication slot "convoy_backup" has been invalidated',
	'convoy_backup_status() shows it');

sleep($quiet_secs);
is(count_in_log($node, 'has been invalidated', $offset), 1, 'said once: the worker is not restarted');
is(count_in_log($node, 'ERROR:', $offset), 0, 'and no ERROR in the log');

# Dropping the slot and restarting starts over from a new slot.
$node->safe_psql('postgres', "SELECT pg_drop_replication_slot('convoy_backup')");
$node->restart;
ok( poll_until(
		$node,
		"SELECT count(*) = 1 FROM pg_replication_slots WHERE slot_name = 'convoy_backup' AND wal_status <> 'lost'"),
	'after dropping it and a restart the worker creates a new slot');

$node->stop;
done_testing();
