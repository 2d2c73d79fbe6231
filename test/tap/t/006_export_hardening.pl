
# Copyright (c) convoy_backup authors
#
# Export mode against what a table owner or a session could do to it:
#
# (a) the runner reads each table as the table's owner: a table that an ON
#     SELECT rule turned into a view is refused, and the cast and row-level
#     security policy of an ordinary table run as its owner, with search_path
#     pinned; the owner never becomes a superuser;
# (b) convoy_backup_export() refuses to run on a standby.
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

# Export mode with daily windows: the scheduler queues yesterday's window once,
# and the runner otherwise runs the manual jobs of this test.
my $node = PostgreSQL::Test::Cluster->new('hardening');
$node->init(allows_streaming => 1);
$node->append_conf(
	'postgresql.conf', server_conf(wal_level => undef) . qq{
convoy_backup.mode = 'export'
convoy_backup.database = 'postgres'
convoy_backup.on_prem_path = '$storage'
convoy_backup.interval = '1d'
convoy_backup.export_delay = '1h'
convoy_backup.tables = 'plain.events'
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
query(
	q{
CREATE ROLE mallory LOGIN;
CREATE SCHEMA mal AUTHORIZATION mallory;
SET ROLE mallory;
-- Makes its owner a superuser when run by one: in the runner's read-only
-- transaction, through a psql run by COPY TO PROGRAM.
CREATE FUNCTION mal.escalate(what text) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
    RAISE LOG '% runs as %, search_path %', what, current_user, current_setting('search_path');
    IF (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user) THEN
        IF pg_catalog.current_setting('transaction_read_only')::boolean THEN
            EXECUTE pg_catalog.format('COPY (SELECT 1 WHERE false) TO PROGRAM %L',
                pg_catalog.format('psql -X -h %s -p %s -d postgres -c ''ALTER ROLE mallory SUPERUSER''',
                    pg_catalog.split_part(pg_catalog.current_setting('unix_socket_directories'), ',', 1),
                    pg_catalog.current_setting('port')));
        ELSE
            ALTER ROLE mallory SUPERUSER;
        END IF;
    END IF;
    RETURN true;
END
$$;
CREATE TABLE mal.events (id int, created_at timestamptz);
CREATE RULE "_RETURN" AS ON SELECT TO mal.events DO INSTEAD
    SELECT 1 AS id, timestamptz '2026-01-01 00:30+00' AS created_at WHERE mal.escalate('the view');
CREATE TYPE mal.stamp AS (at timestamptz);
CREATE FUNCTION mal.stamp_time(s mal.stamp) RETURNS timestamptz LANGUAGE plpgsql AS $$
BEGIN
    PERFORM mal.escalate('the cast');
    RETURN s.at;
END
$$;
CREATE CAST (mal.stamp AS timestamptz) WITH FUNCTION mal.stamp_time(mal.stamp) AS IMPLICIT;
CREATE TABLE mal.stamped (id int, created_at mal.stamp);
INSERT INTO mal.stamped VALUES (1, ROW('2026-01-01 00:30+00'));
CREATE TABLE mal.guarded (id int, created_at timestamptz);
INSERT INTO mal.guarded VALUES (1, '2026-01-01 00:10+00'), (2, '2026-01-01 00:20+00');
ALTER TABLE mal.guarded ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
CREATE POLICY only_odd ON mal.guarded USING (id % 2 = 1 AND mal.escalate('the policy'));
RESET ROLE;
INSERT INTO plain.events VALUES (1, '2026-01-01 00:45+00');
});

set_tables('mal.events');
my $job = run_manual_job('2026-01-01 00:00+00', '2026-01-01 01:00+00');
like(query("SELECT error FROM convoy_backup.jobs WHERE id = $job"),
	qr/^cannot export relation mal\.events$/, '(a) the runner refuses a table turned into a view');
is(query("SELECT rolsuper FROM pg_roles WHERE rolname = 'mallory'"), 'f',
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
is(query("SELECT rolsuper FROM pg_roles WHERE rolname = 'mallory'"), 'f',
	'(a) the cast and the policy did not make their owner a superuser');
ok($node->log_contains(qr/the cast runs as mallory, search_path pg_catalog, pg_temp/),
	'(a) the cast ran as the owner with search_path pinned');
ok($node->log_contains(qr/the policy runs as mallory, search_path pg_catalog, pg_temp/),
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

$node->stop;
note sprintf('test took %.0f s', time() - $test_start);
done_testing();
