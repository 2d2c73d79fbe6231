# Copyright (c) convoy_backup authors
#
# contrib/prometheus/convoy_backup_queries.yaml through the real exporter
# (Debian's prometheus-postgres-exporter), scraped over loopback as a member of
# pg_monitor: lag, buffers, rows and objects written, flush age, errors, export
# lag and jobs by status (issue 14, item 6).
use strict;
use warnings;

use FindBin;
use HTTP::Tiny;
use IPC::Run qw(start);
use Time::HiRes qw(usleep time);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use lib "$FindBin::RealBin/..";
use ConvoyBackupTap qw(poll_until start_cdc_node);

my $exporter = '/usr/bin/prometheus-postgres-exporter';
my $queries  = "$FindBin::RealBin/../../../contrib/prometheus/convoy_backup_queries.yaml";
ok(-x $exporter, 'prometheus-postgres-exporter is installed (scripts/lib/packages.sh)')
  or BAIL_OUT('no exporter');

my $storage = PostgreSQL::Test::Utils::tempdir();
my $node = start_cdc_node('prometheus', $storage, interval => '1s', tables => 'public.t');
$node->safe_psql('postgres', q{
CREATE EXTENSION convoy_backup;
CREATE TABLE t (id int PRIMARY KEY);
INSERT INTO t SELECT generate_series(1, 25);
CREATE ROLE monitor LOGIN IN ROLE pg_monitor;
SELECT convoy_backup.convoy_backup_trigger(now() - interval '2 hours', now() - interval '1 hour');
});
ok(poll_until($node, q{SELECT rows_written = 25 FROM convoy_backup.convoy_backup_status() WHERE scope = 'public.t'}),
	'the rows are written');

my $port = PostgreSQL::Test::Cluster::get_free_port();
my $dsn  = sprintf('host=%s port=%d user=monitor dbname=postgres sslmode=disable',
	$node->host, $node->port);
my ($out, $err) = ('', '');
my $proc = start(
	[
		$exporter, "--web.listen-address=127.0.0.1:$port",
		"--extend.query-path=$queries", '--disable-default-metrics',
		'--disable-settings-metrics'
	],
	'>' => \$out,
	'2>' => \$err,
	init => sub { $ENV{DATA_SOURCE_NAME} = $dsn; });

my $http = HTTP::Tiny->new(timeout => 5);
my $metrics = '';
my $deadline = time() + 60;
while (time() < $deadline)
{
	my $r = $http->get("http://127.0.0.1:$port/metrics");
	$metrics = $r->{content} if $r->{success};
	last if $metrics =~ /^convoy_backup_jobs_jobs\{.*status="completed"/m
	  && $metrics =~ /^convoy_backup_rows_written\{.*scope="public\.t"[^}]*\} 25$/m;
	usleep(500_000);
}
$proc->kill_kill;
diag "exporter said: $err" unless $metrics =~ /convoy_backup_rows_written/;

sub metric
{
	my ($name, $label) = @_;
	return $metrics =~ /^\Q$name\E\{[^}]*\Q$label\E[^}]*\} (\S+)$/m ? $1 : undef;
}

is(metric('convoy_backup_rows_written', 'scope="public.t"'), 25, 'rows written, per table');
cmp_ok(metric('convoy_backup_objects_written', 'scope="public.t"') // 0, '>=', 1, 'objects written');
is(metric('convoy_backup_buffered_rows', 'scope="worker"'), 0, 'nothing buffered');
ok(defined metric('convoy_backup_lag_bytes', 'scope="worker"'), 'slot lag in bytes');
my $age = metric('convoy_backup_last_flush_age_seconds', 'scope="worker"');
ok(defined $age && $age >= 0 && $age < 60, 'age of the last flush') or diag $age;
is(metric('convoy_backup_error', 'scope="worker"'), 0, 'no error');
ok(defined metric('convoy_backup_export_lag_seconds', 'scope="worker"'), 'export lag');
ok(defined metric('convoy_backup_jobs_jobs', 'status="failed"'), 'failed jobs, also when there are none');
my $jobs = 0;
$jobs += metric('convoy_backup_jobs_jobs', qq{status="$_"}) // 0 for qw(pending running completed failed);
is($jobs, 1, 'jobs by status add up to the queued job');
unlike($metrics, qr/pg_exporter_last_scrape_error 1/, 'the queries ran without error');

$node->stop('fast');
done_testing();
