# Copyright (c) convoy_backup authors
#
# Switching from cdc to export mode (issue 14, item 4): the slot cdc mode
# leaves behind keeps WAL, so the export scheduler says so once, with the
# command that drops it, shows it in convoy_backup_status(), and clears it once
# the slot is dropped.
use strict;
use warnings;

use FindBin;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use lib "$FindBin::RealBin/..";
use ConvoyBackupTap qw(poll_until start_cdc_node log_shows count_in_log);

my $storage = PostgreSQL::Test::Utils::tempdir();
my $node = start_cdc_node('mode_switch', $storage, interval => '1s', tables => 'public.t');
$node->safe_psql('postgres', 'CREATE EXTENSION convoy_backup');

my $offset = -s $node->logfile;
$node->append_conf('postgresql.conf', "convoy_backup.mode = 'export'\n");
$node->restart;
my $warning = 'replication slot "convoy_backup" of cdc mode still exists in export mode';
ok(log_shows($node, qr/WARNING:  \Q$warning\E/, $offset), 'export mode warns about the slot cdc mode left');
like(slurp_file($node->logfile, $offset),
	qr/HINT:  If you stay in export mode, drop it: SELECT pg_drop_replication_slot\('convoy_backup'\);/,
	'the hint gives the command that drops it');
ok(poll_until($node, qq{SELECT last_error = '$warning' FROM convoy_backup.convoy_backup_status() WHERE scope = 'worker'}),
	'the status shows it');
sleep 3;
is(count_in_log($node, "WARNING:  $warning", $offset), 1, 'said once');

$node->safe_psql('postgres', "SELECT pg_drop_replication_slot('convoy_backup')");
ok(log_shows($node, qr/replication slot "convoy_backup" of cdc mode is gone/, $offset), 'the drop is noticed');
ok(poll_until($node, q{SELECT last_error IS NULL FROM convoy_backup.convoy_backup_status() WHERE scope = 'worker'}),
	'and the status is clear');

$node->stop('fast');
done_testing();
