
# Copyright (c) convoy_backup authors
#
# The cdc worker reads the records that start before the WAL flush position,
# but a record may end after it: the walwriter flushes whole pages, and the
# rest of a record only once a commit (or an asynchronous one, or the bgwriter's
# snapshot of running transactions) asks for it. Here a session's open
# transaction writes a record of several pages. Reading it must not keep the
# worker waiting for its tail: its buffered rows are written when due, and a
# fast shutdown, which stops the walwriter and bgwriter first, ends.
#
# The bgwriter logs the running transactions every 15 s after other WAL,
# which flushes such a tail too: each record is written just after one of
# those, so that the test looks within that time.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib "$FindBin::RealBin/..";
use ConvoyBackupTap qw(poll_until start_cdc_node);

my $wait_secs = 60;
$PostgreSQL::Test::Utils::timeout_default = $wait_secs;

my $storage = PostgreSQL::Test::Utils::tempdir();
my $node = start_cdc_node('wal_tail', $storage, tables => 'convoy.events', interval => '1h');
$node->safe_psql(
	'postgres', q{
CREATE EXTENSION convoy_backup;
CREATE EXTENSION pg_walinspect;
CREATE SCHEMA convoy;
CREATE TABLE convoy.events (id int PRIMARY KEY);
});
sub query { return $node->safe_psql('postgres', $_[0]); }

my $session = $node->background_psql('postgres');
$session->query_safe('BEGIN');

# Waits for the bgwriter's next snapshot of running transactions, then writes
# a record of several pages in the open transaction, and waits until the
# walwriter flushed its first pages and the worker had time to read on.
sub unflushed_tail
{
	my ($what) = @_;
	my $from = query('SELECT pg_current_wal_insert_lsn()');
	ok( poll_until(
			$node,
			qq{SELECT count(*) > 0 FROM pg_get_wal_records_info('$from', pg_current_wal_flush_lsn())
               WHERE resource_manager = 'Standby' AND record_type = 'RUNNING_XACTS'},
			't', 30),
		"$what: the bgwriter logged the running transactions");
	my $start = $session->query_safe('SELECT pg_current_wal_insert_lsn()');
	my $end = $session->query_safe(
		q{SELECT pg_logical_emit_message(false, 'convoy_test', repeat('x', 30000))});
	ok(poll_until($node, qq{SELECT pg_current_wal_flush_lsn() > '$start'}, 't', 10),
		"$what: the walwriter flushed the first pages of the record $start-$end");
	sleep 2;    # the worker looks for WAL at least every second
}

query('INSERT INTO convoy.events SELECT generate_series(1, 10)');
ok(poll_until($node, q{SELECT buffered_rows = 10 FROM convoy_backup.convoy_backup_status() WHERE scope = 'worker'}),
	'the rows are decoded and buffered (interval 1h)');
unflushed_tail('(a)');
$node->append_conf('postgresql.conf', "convoy_backup.interval = '1s'\n");
$node->reload;
ok(poll_until($node, q{SELECT rows_written = 10 FROM convoy_backup.convoy_backup_status() WHERE scope = 'worker'}, 't', 5),
	'(a) the buffered rows are written when due');

unflushed_tail('(b)');
my $stopped = system('pg_ctl', '-D', $node->data_dir, '-m', 'fast', '-t', '10', 'stop') == 0;
ok($stopped, '(b) a fast shutdown ends');
$node->_update_pid(0) if $stopped;
eval { $session->quit };
done_testing();
