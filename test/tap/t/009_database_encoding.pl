
# Copyright (c) convoy_backup authors
#
# Backup objects are UTF-8 whatever the database encoding:
#  (a) the cdc worker of a LATIN1 database writes objects that are valid UTF-8,
#      with the right characters in values and keys, equal to to_jsonb(row);
#  (b) in a SQL_ASCII database the cdc worker says once that it cannot start,
#      shows why in convoy_backup_status() and creates no slot; in export mode,
#      the runner fails the job with the same reason.
# Node (b) starts first so that its "only once" check can wait longer than the
# worker's restart interval (10 s) while (a) runs.
use strict;
use warnings;
use utf8;

use Encode qw(decode encode);
use File::Find;
use IO::Uncompress::Gunzip qw(gunzip $GunzipError);
use JSON::PP;
use Time::HiRes qw(usleep time);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib "$FindBin::RealBin/..";
use ConvoyBackupTap qw(poll_until server_conf);

my $wait_secs = 60;
$PostgreSQL::Test::Utils::timeout_default = $wait_secs;
# The SQL below holds UTF-8 literals (use utf8: they are characters here, and
# encoded to UTF-8 bytes before they are sent).
$ENV{PGCLIENTENCODING} = 'UTF8';

my $cannot_start =
  'convoy_backup cdc worker cannot start: database "ascii" has encoding "SQL_ASCII", '
  . 'which cannot be converted to UTF-8';

sub log_shows
{
	my ($node, $re) = @_;
	my $deadline = time() + $wait_secs;
	while (time() < $deadline)
	{
		return 1 if slurp_file($node->logfile) =~ $re;
		usleep(100_000);
	}
	diag "timed out waiting for log line matching $re in " . $node->logfile;
	return 0;
}

# Starts a node with the extension preloaded and idle, creates database $db
# with $encoding, then restarts it with a cdc worker that backs up table
# convoy.events of $db into a new directory, returned with the node.
sub node_with_database
{
	my ($name, $db, $encoding) = @_;
	my $storage = PostgreSQL::Test::Utils::tempdir();
	my $node = PostgreSQL::Test::Cluster->new($name);
	$node->init(
		allows_streaming => 'logical',
		extra            => [ '--encoding=UTF8', '--locale=C' ]);
	$node->append_conf('postgresql.conf', server_conf() . "convoy_backup.mode = 'off'\n");
	$node->start;
	$node->safe_psql('postgres',
		"CREATE DATABASE $db ENCODING '$encoding' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0");
	$node->append_conf('postgresql.conf', qq{
convoy_backup.mode = 'cdc'
convoy_backup.database = '$db'
convoy_backup.on_prem_path = '$storage'
convoy_backup.interval = '1s'
convoy_backup.tables = 'convoy.events'
});
	$node->restart;
	return ($node, $storage);
}

# --- (b) SQL_ASCII, started first -------------------------------------------
my ($node_b, $storage_b) = node_with_database('sql_ascii', 'ascii', 'SQL_ASCII');
my $start_b = time();
ok(log_shows($node_b, qr/\Q$cannot_start\E/), '(b) cdc worker says it cannot start');

# --- (a) LATIN1 ---------------------------------------------------------------
my ($node_a, $storage_a) = node_with_database('latin1', 'latin1', 'LATIN1');
ok( poll_until(
		$node_a,
		"SELECT count(*) = 1 FROM pg_replication_slots WHERE slot_name = 'convoy_backup' AND database = 'latin1'"
	),
	'(a) cdc worker created its slot in the LATIN1 database');
$node_a->safe_psql('postgres', 'CREATE EXTENSION convoy_backup');

# Every non-ASCII character here is a LATIN1 one. Row 2 holds a value long
# enough to be converted in several pieces.
$node_a->safe_psql(
	'latin1', encode('UTF-8', q{
CREATE SCHEMA convoy;
CREATE TYPE convoy.humeur AS ENUM ('gaîté', 'ennui');
CREATE TYPE convoy.paire AS ("clé" text, "valeur" json);
CREATE TABLE convoy.events (id int, "café" text, h convoy.humeur, j json, jb jsonb,
                                ta text[], p convoy.paire);
INSERT INTO convoy.events VALUES
    (1, 'crème brûlée', 'gaîté', '{"naïve": "Ångström ×÷"}', '{"ß": "£ ÿ"}',
     ARRAY['à', NULL], ROW('clé', '"ü"')),
    (2, repeat('aé', 30000), 'ennui', NULL, NULL, NULL, NULL);
}));
ok( poll_until(
		$node_a, q{
SELECT rows_written = 2 AND buffered_rows = 0 FROM convoy_backup.convoy_backup_status()
 WHERE scope = 'worker'}),
	'(a) both rows written');

my @files;
find(sub { push @files, $File::Find::name if /\.jsonl\.gz$/ }, $storage_a);
my $bytes = '';
for my $file (sort @files)
{
	my $content;
	gunzip($file => \$content) or die "gunzip $file: $GunzipError";
	$bytes .= $content;
}
my $text = eval { decode('UTF-8', $bytes, Encode::FB_CROAK | Encode::LEAVE_SRC) };
ok(defined $text, '(a) the objects are valid UTF-8') or diag $@;
unlike($bytes, qr/\xE9"/, '(a) no LATIN1 é (0xE9) left in the objects');

my $json = JSON::PP->new->utf8;
my %got = map { my $row = $json->decode($_); ($row->{id} => $row) } split /\n/, $bytes;
my %expected = map { my $row = $json->decode($_); ($row->{id} => $row) } split /\n/,
  $node_a->safe_psql('latin1', 'SELECT to_jsonb(e) FROM convoy.events e ORDER BY id');
ok(eq_hash(\%got, \%expected), '(a) every line equals to_jsonb(row)');
is($got{1}{'café'}, 'crème brûlée', '(a) text value and column name decode to the right characters');
is_deeply(
	[ $got{1}{h}, $got{1}{j}, $got{1}{jb}, $got{1}{ta}, $got{1}{p} ],
	[ 'gaîté', { 'naïve' => 'Ångström ×÷' }, { 'ß' => '£ ÿ' }, [ 'à', undef ], { 'clé' => 'clé', valeur => 'ü' } ],
	'(a) enum, json, jsonb, array and composite (field names too) decode to the right characters');
ok(($got{2}{'café'} // '') eq 'aé' x 30000, '(a) a long value is converted whole');
$node_a->stop('fast');

# --- (b) SQL_ASCII: checks ----------------------------------------------------
$node_b->safe_psql('postgres', 'CREATE EXTENSION convoy_backup');
like(
	$node_b->safe_psql('postgres',
		"SELECT last_error FROM convoy_backup.convoy_backup_status() WHERE scope = 'worker'"),
	qr/^database "ascii" has encoding "SQL_ASCII", which cannot be converted to UTF-8$/,
	'(b) status last_error gives the reason');
like(slurp_file($node_b->logfile),
	qr/\Q$cannot_start\E\n.*HINT:  Back up a database created with another encoding, such as UTF8\./,
	'(b) the log line has a hint');
is($node_b->safe_psql('postgres', 'SELECT count(*) FROM pg_replication_slots'),
	0, '(b) no slot was created');
# Longer than the restart interval: a restarted worker would say it again.
my $left = $start_b + 12 - time();
usleep(int($left * 1_000_000)) if $left > 0;
my $times = () = slurp_file($node_b->logfile) =~ /\Q$cannot_start\E/g;
is($times, 1, '(b) "cannot start" logged once: the worker is not restarted');

# Export mode in the same database: the runner fails the job with the reason.
$node_b->append_conf('postgresql.conf', "convoy_backup.mode = 'export'\n");
$node_b->restart;
$node_b->safe_psql('ascii', q{
CREATE EXTENSION convoy_backup;
CREATE SCHEMA convoy;
CREATE TABLE convoy.events (id int, created_at timestamptz);
});
my $job = $node_b->safe_psql('ascii',
	q{SELECT convoy_backup.convoy_backup_trigger('2026-01-01 00:00+00', '2026-01-01 01:00+00')});
ok( poll_until(
		$node_b,
		"SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'convoy_backup export runner'"),
	'(b) export runner runs');
my $error = '';
my $deadline = time() + $wait_secs;
while (time() < $deadline && $error eq '')
{
	$error = $node_b->safe_psql('ascii',
		"SELECT coalesce(error, '') FROM convoy_backup.jobs WHERE id = $job");
	usleep(100_000) if $error eq '';
}
is($error, 'database "ascii" has encoding "SQL_ASCII", which cannot be converted to UTF-8',
	'(b) the export job fails with the reason');
is($node_b->safe_psql('ascii', "SELECT status FROM convoy_backup.jobs WHERE id = $job"),
	'pending', '(b) the job waits for a retry');
like(slurp_file($node_b->logfile),
	qr/ERROR:  database "ascii" has encoding "SQL_ASCII", which cannot be converted to UTF-8\n.*DETAIL:  Backup objects are UTF-8/,
	'(b) the runner logs the error with its detail');
my @objects;
find(sub { push @objects, $File::Find::name if -f $_ }, $storage_b);
is(scalar(@objects), 0, '(b) nothing was written');

unlike(slurp_file($node_b->logfile), qr/terminated by signal/, '(b) no crash');
$node_b->stop('fast');
done_testing();
