
# Copyright (c) convoy_backup authors
#
# convoy_backup_verify() and convoy_backup_restore() end to end, on each store:
# a local directory, S3 (s3rver behind the SigV4-checking proxy) and Azurite.
#
# - Rows of many types go through cdc (one object per transaction) and, for
#   the second hour, also through convoy_backup_export() into the same prefix:
#   verify finds every row once, and restore into an empty copy gives back the
#   same rows (compared as text both ways; a json value holds \u0000).
# - Then one object is deleted (its manifest left), one corrupted, one copied
#   under another name and one deleted with its manifest: verify reports
#   exactly those (missing, corrupt, duplicated rows), and restore fails on the
#   corrupt object, naming it, with nothing inserted.
# - On the local store, a larger table: a cancel (pg_cancel_backend) stops a
#   verify at once and its reader thread with it, and a verify's private
#   memory stays within convoy_backup.read_memory plus a small constant.
use strict;
use warnings;

use File::Copy qw(copy);
use File::Find;
use File::Path qw(make_path remove_tree);
use File::Spec;
use IPC::Run;
use Time::HiRes qw(usleep time);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib "$FindBin::RealBin/..";
use ConvoyBackupTap qw(poll_until server_conf);
use ConvoyEmulators qw(emulators_installed start_s3 start_azurite objects_js);

$PostgreSQL::Test::Utils::timeout_default = 120;

unless (emulators_installed())
{
	done_testing();
	exit 1;
}

my $work = PostgreSQL::Test::Utils::tempdir();
my $bucket = 'convoy-verify';
my $s3_key_id = 'AKIDCONVOYVERIFY';
my $s3_secret = sprintf('tap/V3rify+Key=%08x%08x', int(rand(2**32)), int(rand(2**32)));
my ($s3_endpoint, $s3_env) =
  start_s3(work => $work, bucket => $bucket, key_id => $s3_key_id, secret => $s3_secret);
my ($az_endpoint, $az_account, $az_key, $az_env) = start_azurite(work => $work);
my $container = 'convoy-verify';
my $prefix    = 'tap/verify';
note "S3 at $s3_endpoint, Azurite at $az_endpoint";

my $onprem = "$work/onprem";
make_path($onprem);
my $node = PostgreSQL::Test::Cluster->new('verify_restore');
$node->init(allows_streaming => 'logical', extra => [ '--encoding=UTF8', '--locale=C' ]);
$node->append_conf(
	'postgresql.conf', server_conf() . qq{
timezone = 'America/New_York'
convoy_backup.database = 'postgres'
convoy_backup.tables = 'convoy.on_prem_events, convoy.s3_events, convoy.azure_events, convoy.bulk'
convoy_backup.interval = '1s'
include 'convoy_storage.conf'
});
my %storage = (
	storage             => 'on_prem',
	on_prem_path        => $onprem,
	s3_bucket           => $bucket,
	s3_endpoint         => $s3_endpoint,
	s3_force_path_style => 'on',
	s3_access_key       => $s3_key_id,
	s3_secret_key       => $s3_secret,
	s3_prefix           => $prefix,
	azure_account_name  => $az_account,
	azure_account_key   => $az_key,
	azure_container     => $container,
	azure_endpoint      => $az_endpoint,
	azure_prefix        => $prefix,
	storage_timeout     => '30s');
my $generation = 0;
my $started    = 0;

# The storage settings (with secrets) live in a file of their own, mode 0600.
sub use_store
{
	my ($store) = @_;
	$storage{storage} = $store;
	my $file = $node->data_dir . '/convoy_storage.conf';
	$generation++;
	open my $fh, '>', $file or die "cannot write $file: $!";
	chmod 0600, $file;
	print $fh "tap.generation = '$generation'\n";
	print $fh "convoy_backup.$_ = '$storage{$_}'\n" for sort keys %storage;
	close $fh;
	return unless $started;
	$node->reload;
	poll_until($node, 'SHOW tap.generation', $generation) or die 'settings not loaded';
}
use_store('on_prem');
$node->start;
$started = 1;
ok(poll_until($node, "SELECT count(*) = 1 FROM pg_replication_slots WHERE slot_name = 'convoy_backup'"),
	'cdc worker created its slot');

sub query { return $node->safe_psql('postgres', $_[0]); }

# The first hour of the rows, and the second, a day ago (in the past, for export).
my $t0 = query("SELECT date_trunc('hour', now()) - interval '1 day'");
my $t1 = query("SELECT '$t0'::timestamptz + interval '1 hour'");
my $t2 = query("SELECT '$t0'::timestamptz + interval '2 hours'");

query(q{
CREATE EXTENSION convoy_backup;
CREATE SCHEMA convoy;
CREATE TYPE convoy.mood AS ENUM ('calm', 'busy', 'weird "one"');
CREATE TABLE convoy.bulk (id bigint PRIMARY KEY, note text, payload jsonb, created_at timestamptz NOT NULL);
});

# A table of many types.
sub create_table
{
	my ($table) = @_;
	query(qq{
CREATE TABLE $table (
    id bigint PRIMARY KEY, uid uuid, kind convoy.mood, flag boolean, small smallint,
    amount numeric(12,3), ratio float8, tiny real, note text, label varchar(40), code char(3),
    payload jsonb, doc json, tags text[], counts int[], data bytea, day date, at_time time,
    stamp timestamp, span interval, net inet, created_at timestamptz NOT NULL)});
}

# Rows first..last, their times in [start, start + 1 hour).
sub insert_rows
{
	my ($table, $first, $last, $start) = @_;
	query(qq{
INSERT INTO $table
SELECT i, md5(i::text)::uuid, (ARRAY['calm', 'busy', 'weird "one"'])[1 + i % 3]::convoy.mood,
       CASE i % 3 WHEN 0 THEN NULL ELSE i % 2 = 0 END, (i % 300)::smallint, i * 1.125,
       CASE i % 7 WHEN 0 THEN 'NaN' WHEN 1 THEN '-0' WHEN 2 THEN 'Infinity' ELSE i / 7.0 END::float8,
       (i / 3.0)::real, CASE WHEN i % 5 = 0 THEN NULL ELSE E'line\\nbreak "q" \\\\ é ✓ ' || i END,
       'label ' || i, 'c' || (i % 10), jsonb_build_object('i', i, 'nested', jsonb_build_array(i, 'x', NULL)),
       CASE WHEN i % 11 = 0 THEN '{"nul": "\\u0000", "dup": 1, "dup": 2}' ELSE '{ "keep":  "spacing" }' END::json,
       ARRAY['a', NULL, 'b' || i], ARRAY[i, -i], decode(md5(i::text), 'hex'),
       date '2020-02-29' + i, time '12:34:56.789' + i * interval '1 second',
       timestamp '2001-02-03 04:05:06' + i * interval '1 minute', make_interval(days => i, secs => i / 10.0),
       ('10.0.' || (i % 250) || '.1')::inet,
       '$start'::timestamptz + (i - $first) * interval '10 seconds'
  FROM generate_series($first, $last) i});
}

# True once the cdc worker has written at least $rows rows of $table.
sub rows_written_sql
{
	my ($table, $rows) = @_;
	return "SELECT coalesce(sum(rows_written), 0) >= $rows FROM convoy_backup.convoy_backup_status()"
	  . " WHERE scope = '$table'";
}

# --- the stores, as the test sees them -----------------------------------------

# Every object under backup/ of a store, copied into a fresh directory:
# key (as stored) => local file.
sub fetch_all
{
	my ($store) = @_;
	my $dir = "$work/fetch-$store-" . int(rand(1e9));
	make_path($dir);
	my %files;
	if ($store eq 'on_prem')
	{
		find({ no_chdir => 1, wanted => sub {
			return unless -f $_;
			my $key = File::Spec->abs2rel($_, $onprem);
			$files{$key} = $_;
		} }, "$onprem/backup") if -d "$onprem/backup";
		return %files;
	}
	my @listed =
	  $store eq 's3'
	  ? objects_js($s3_env, 's3-download', '--endpoint', $s3_endpoint, '--bucket', $bucket,
		'--prefix', "$prefix/backup/", '--out', $dir)
	  : objects_js($az_env, 'azure-download', '--endpoint', $az_endpoint, '--container', $container,
		'--prefix', "$prefix/backup/", '--out', $dir);
	$files{ $_->{key} } = "$dir/$_->{key}" for @listed;
	return %files;
}

sub delete_object
{
	my ($store, $key) = @_;
	if ($store eq 'on_prem') { unlink "$onprem/$key" or die "unlink $key: $!"; return; }
	if ($store eq 's3')
	{
		objects_js($s3_env, 's3-delete', '--endpoint', $s3_endpoint, '--bucket', $bucket, '--key', $key);
		return;
	}
	objects_js($az_env, 'azure-delete', '--endpoint', $az_endpoint, '--container', $container,
		'--key', $key);
}

# Stores the bytes of $file under $key.
sub put_object
{
	my ($store, $key, $file) = @_;
	if ($store eq 'on_prem') { copy($file, "$onprem/$key") or die "copy to $key: $!"; return; }
	my $dir = "$work/put-" . int(rand(1e9));
	my $rel = $key;
	$rel =~ s{^\Q$prefix\E/}{} or die "$key is not under $prefix";
	make_path((File::Spec->splitpath("$dir/$rel"))[1]);
	copy($file, "$dir/$rel") or die "copy: $!";
	if ($store eq 's3')
	{
		objects_js($s3_env, 's3-upload', '--endpoint', $s3_endpoint, '--bucket', $bucket,
			'--prefix', "$prefix/", '--dir', $dir);
	}
	else
	{
		objects_js($az_env, 'azure-upload', '--endpoint', $az_endpoint, '--container', $container,
			'--prefix', "$prefix/", '--dir', $dir);
	}
	remove_tree($dir);
}

sub lines_of
{
	my ($file) = @_;
	my ($out, $err) = ('', '');
	IPC::Run::run([ 'gzip', '-dc', $file ], '<', \undef, '>', \$out, '2>', \$err)
	  or die "gzip -dc $file: $err";
	my $n = () = $out =~ /\n/g;
	return $n;
}

# --- each store --------------------------------------------------------------

sub verify_sql
{
	my ($table, $from, $to) = @_;
	return "SELECT rows_in_table, rows_in_backup, missing, duplicated, mismatched, objects_read,"
	  . " corrupt_objects, complete FROM convoy_backup.convoy_backup_verify('$table', '$from', '$to')";
}

sub same_rows
{
	my ($a, $b) = @_;
	return query("SELECT (SELECT count(*) FROM (SELECT x::text FROM $a x EXCEPT ALL SELECT y::text FROM $b y) d)"
		  . " + (SELECT count(*) FROM (SELECT y::text FROM $b y EXCEPT ALL SELECT x::text FROM $a x) d)");
}

# Every configured table exists (an export reads them all); each store gets
# the rows of its own.
create_table("convoy.${_}_events") for ('on_prem', 's3', 'azure');

for my $store ('on_prem', 's3', 'azure_blob')
{
	my $short = $store eq 'azure_blob' ? 'azure' : $store;
	my $table = "convoy.${short}_events";
	use_store($store);

	# First hour: cdc only, one object per transaction.
	my $written = 0;
	for my $batch (0 .. 5)
	{
		insert_rows($table, $batch * 40 + 1, $batch * 40 + 40, $t0);
		$written += 40;
		# Written before the next transaction: that one gets an object of its own.
		ok(poll_until($node, rows_written_sql($table, $written)), "$store: cdc wrote batch $batch")
		  or last;
	}
	# Second hour: cdc, and an export of the same window into the same prefix.
	insert_rows($table, 241, 360, $t1);
	ok(poll_until($node, rows_written_sql($table, 360)), "$store: cdc wrote the second hour");
	is( query("SELECT rows FROM convoy_backup.convoy_backup_export('$t1', '$t2') WHERE table_name = '$table'"),
		'120', "$store: the second hour exported too");

	is(query(verify_sql($table, $t0, $t2)), '360|360|0|0|0|8|0|t',
		"$store: verify finds every row once (cdc and export overlap)");
	is(query(verify_sql($table, $t1, $t2)), '120|120|0|0|0|2|0|t',
		"$store: the second hour reads only its objects (manifests and the export window)");

	query("CREATE TABLE ${table}_copy (LIKE $table INCLUDING ALL)");
	is( query("SELECT * FROM convoy_backup.convoy_backup_restore('$table', '$t0', '$t2', '${table}_copy')"),
		'480|360|120', "$store: restore reads both copies of the second hour and inserts each row once");
	is(same_rows($table, "${table}_copy"), '0', "$store: the restored rows equal the table's");
	is(query("SELECT doc::text FROM ${table}_copy WHERE id = 11"), '{"nul": "\u0000", "dup": 1, "dup": 2}',
		"$store: a json value holding \\u0000 comes back as written");

	# Break the backup of the first hour.
	my %files = fetch_all($store);
	my @cdc = sort grep { m{/\Q$table\E/} && !/_export_/ && /\.jsonl\.gz$/ } keys %files;
	# Keys sort by commit time: the first six are the first hour's.
	my ($lost, $corrupt, $copied, $gone) = @cdc[ 0 .. 3 ];
	(my $lost_manifest = $lost) =~ s/\.jsonl\.gz$/.manifest.json/;
	(my $gone_manifest = $gone) =~ s/\.jsonl\.gz$/.manifest.json/;
	ok(exists $files{$lost_manifest}, "$store: objects have manifests");
	my %rows = map { $_ => lines_of($files{$_}) } ($lost, $corrupt, $copied, $gone);

	delete_object($store, $lost);
	delete_object($store, $gone);
	delete_object($store, $gone_manifest);
	{
		open my $fh, '<:raw', $files{$corrupt} or die;
		local $/;
		my $bytes = <$fh>;
		close $fh;
		substr($bytes, int(length($bytes) / 2), 1) ^= "\x55";
		my $bad = "$work/corrupt-$short.gz";
		open my $out, '>:raw', $bad or die;
		print $out $bytes;
		close $out;
		put_object($store, $corrupt, $bad);
	}
	(my $copy_key = $copied) =~ s/\.jsonl\.gz$/_copy.jsonl.gz/;
	put_object($store, $copy_key, $files{$copied});

	my ($rc, $out, $err) = $node->psql('postgres', verify_sql($table, $t0, $t2));
	my $missing = $rows{$lost} + $rows{$corrupt} + $rows{$gone};
	# Read: the corrupt one, the copied one and its copy, the first hour's two
	# others, the second hour's two; not the lost one nor the one gone whole.
	is($out, "360|" . (360 - $missing) . "|$missing|$rows{$copied}|0|7|1|f",
		"$store: verify reports the lost, corrupt and copied objects' rows exactly");
	like($err, qr/backup object "\Q$lost\E" is missing: its manifest is there, but the object is not/,
		"$store: the lost object is named");
	like($err, qr/backup object "\Q$corrupt\E" is corrupt: /, "$store: the corrupt object is named");
	unlike($err, qr/\Q$copied\E|\Q$gone\E/, "$store: nothing else is reported");

	query("CREATE TABLE ${table}_again (LIKE $table INCLUDING ALL)");
	($rc, $out, $err) = $node->psql('postgres',
		"SELECT * FROM convoy_backup.convoy_backup_restore('$table', '$t0', '$t2', '${table}_again')");
	isnt($rc, 0, "$store: restore fails");
	like($err, qr/ERROR:  backup object "\Q$corrupt\E" is corrupt: .*\nDETAIL:  No row was restored\./s,
		"$store: restore names the corrupt object");
	is(query("SELECT count(*) FROM ${table}_again"), '0', "$store: nothing was inserted");
	# The second hour alone is intact.
	is( query("SELECT rows_inserted FROM convoy_backup.convoy_backup_restore('$table', '$t1', '$t2', '${table}_again')"),
		'120', "$store: an intact range still restores");
}

# --- cancel and memory, on the local store ---------------------------------------

use_store('on_prem');
query(qq{INSERT INTO convoy.bulk SELECT i, repeat(md5(i::text), 4), jsonb_build_object('i', i, 'h', md5(i::text)),
             '$t0'::timestamptz + i * interval '1 millisecond' FROM generate_series(1, 400000) i});
ok(poll_until($node, "SELECT (SELECT coalesce(sum(rows_written), 0) FROM convoy_backup.convoy_backup_status() WHERE scope = 'convoy.bulk') >= 400000", 't', 300),
	'bulk rows written');

# A verify in a session of its own; its process's threads and private memory.
sub status_field
{
	my ($pid, $field) = @_;
	open my $fh, '<', "/proc/$pid/status" or return undef;
	while (<$fh>) { return $1 if /^\Q$field\E:\s+(\d+)/; }
	return undef;
}

my ($in, $out, $err) = ('', '', '');
my $session = IPC::Run::start([ 'psql', '-XAtq', '-d', $node->connstr('postgres') ],
	'<', \$in, '>', \$out, '2>', \$err);
sub session_until
{
	my ($re) = @_;
	my $timer = IPC::Run::timer(300);
	$session->pump until $out =~ $re || $timer->is_expired;
	return $out =~ $re;
}
my $memory_mb = 32;
$in .= "SET convoy_backup.read_memory = '${memory_mb}MB';\nSELECT 'pid:' || pg_backend_pid();\n";
session_until(qr/pid:(\d+)\n/) or die "no session: $err";
my ($pid) = $out =~ /pid:(\d+)\n/;
my $baseline_kb = status_field($pid, 'RssAnon');
$in .= "SELECT 'verified:' || rows_in_table || '|' || rows_in_backup || '|' || complete"
  . " FROM convoy_backup.convoy_backup_verify('convoy.bulk', '-infinity', 'infinity');\n";
my ($peak_kb, $threads) = ($baseline_kb, 1);
my $deadline = time() + 300;
while (time() < $deadline && $out !~ /verified:/)
{
	$session->pump_nb;
	my $rss = status_field($pid, 'RssAnon') // last;
	$peak_kb = $rss if $rss > $peak_kb;
	my $t = status_field($pid, 'Threads') // 1;
	$threads = $t if $t > $threads;
	usleep(10_000);
}
like($out, qr/verified:400000\|400000\|t/, 'the bulk table is backed up completely');
ok($threads >= 2, "the verify read on a thread of its own ($threads threads seen)");
my $grown_mb = ($peak_kb - $baseline_kb) / 1024;
note sprintf('private memory of the verify: %.1f MB over the %.1f MB before it', $grown_mb,
	$baseline_kb / 1024);
cmp_ok($grown_mb, '<', $memory_mb + 24,
	"a verify's private memory stays within read_memory ($memory_mb MB) plus a small constant");

# Cancel: the verify stops with the cancel's error, the thread is gone, and the
# session goes on.
$in .= "SELECT 'again:' || complete FROM convoy_backup.convoy_backup_verify('convoy.bulk', '-infinity', 'infinity');\n"
  . "SELECT 'after:' || 1;\n";
$session->pump_nb;
ok( poll_until(
		$node,
		"SELECT count(*) = 1 FROM pg_stat_activity WHERE pid = $pid AND state = 'active'"
		  . " AND query LIKE '%again:%'"),
	'the second verify runs');
usleep(100_000);
my $canceled_at = time();
query("SELECT pg_cancel_backend($pid)");
ok(session_until(qr/after:1/), 'the session goes on');
like($err, qr/canceling statement due to user request/, 'the cancel stopped the verify');
unlike($out, qr/again:/, 'before it finished');
cmp_ok(time() - $canceled_at, '<', 10, 'promptly');
is(status_field($pid, 'Threads'), 1, 'its reader thread is gone');
$in .= "\\q\n";
$session->finish;

$node->stop;
done_testing();
