
# Copyright (c) convoy_backup authors
#
# Messages that say what to do (issue 14 item 2):
#  (d) a slot of another database: the message names that database;
#  (f) a failed cdc write: the WARNING's hint and the shutdown message agree
#      (rows are decoded again from the slot); an export job that has used up
#      convoy_backup.job_max_attempts (lowered meanwhile) says "failed after N
#      attempts", never "attempt 4 of 2".
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib "$FindBin::RealBin/..";
use ConvoyBackupTap qw(start_cdc_node log_shows);

$PostgreSQL::Test::Utils::timeout_default = 60;

# --- (d) the slot belongs to another database ---------------------------------
{
	my $node = start_cdc_node('other_database', PostgreSQL::Test::Utils::tempdir(), tables => 'public.t');
	$node->safe_psql('postgres', 'CREATE DATABASE other');
	$node->append_conf('postgresql.conf', "convoy_backup.database = 'other'\n");
	$node->restart;
	ok(log_shows($node,
			qr/convoy_backup cdc worker cannot start: replication slot "convoy_backup" belongs to another database, "postgres"/),
		'(d) the message names the slot\'s database');
	$node->stop('fast');
}

# --- (f) a cdc write that keeps failing, then a fast shutdown ------------------
{
	# A regular file where the directory should be: every write fails.
	my $dir = PostgreSQL::Test::Utils::tempdir();
	my $blocker = "$dir/not_a_directory";
	open(my $fh, '>', $blocker) or die "cannot create $blocker: $!";
	close($fh);
	my $node = start_cdc_node('failing_writes', "$blocker/objects",
		tables => 'public.t', interval => '1s', job_max_attempts => 5);
	$node->safe_psql('postgres',
		'CREATE EXTENSION convoy_backup; CREATE TABLE public.t (id int, created_at timestamptz DEFAULT now()); INSERT INTO public.t (id) VALUES (1)');
	ok(log_shows($node,
			qr/HINT:  The rows stay buffered and the write is retried; the replication slot does not advance until they are written\. If the worker stops first, it decodes them again from the slot when it restarts\./),
		'(f) the failed write says the rows are decoded again if the worker stops first');

	# An export job whose attempts exceed a lowered convoy_backup.job_max_attempts.
	my $job = $node->safe_psql('postgres',
		"SELECT convoy_backup.convoy_backup_trigger('2026-01-01 00:00+00', '2026-01-01 01:00+00')");
	ok(log_shows($node, qr/convoy_backup export job $job failed \(attempt 1 of 5\)/),
		'(f) a first failure counts attempts against the limit');
	$node->append_conf('postgresql.conf', "convoy_backup.job_max_attempts = 2\n");
	$node->reload;
	sleep 1;    # the runner reads the reload when it wakes
	$node->safe_psql('postgres',
		"UPDATE convoy_backup.jobs SET attempts = 3, status = 'pending', not_before = now() WHERE id = $job");
	ok(log_shows($node, qr/convoy_backup export job $job failed after 4 attempts/),
		'(f) beyond a lowered limit: "failed after 4 attempts"');
	unlike(slurp_file($node->logfile), qr/attempt 4 of 2/, '(f) never "attempt 4 of 2"');

	$node->stop('fast');
	like(slurp_file($node->logfile),
		qr/convoy_backup cdc worker stopping before its buffered rows were written.*\n.*DETAIL:  Replication slot "convoy_backup" was not advanced past them: the worker decodes them again and retries the write when it restarts\./,
		'(f) the shutdown message says the same');
}

done_testing();
