
# Copyright (c) convoy_backup authors
#
# Object stores end to end, against loopback emulators started here:
# s3rver behind test/e2e/storage/s3-sigv4-proxy.js (which checks every SigV4
# signature with the official signer; s3rver accepts any) and Azurite's blob
# service in strict mode (it checks Shared Key itself). Every object is listed
# and read back with the official SDKs (test/e2e/storage/objects.js).
#
# - cdc into S3 with 5 MB parts (one object takes a multipart upload) and into
#   Azure with 1 MB blocks (Put Block + Put Block List; the extension creates the
#   container): the lines equal to_jsonb of the inserted rows;
# - export: convoy_backup_export() of the same rows to on_prem, S3 and Azure
#   gives the same records as cdc;
# - failures: a wrong secret, a missing bucket and a stopped emulator show in
#   convoy_backup_status(), keep the rows buffered and the slot in place, and
#   heal after the fix without loss or duplicates; no secret reaches the log;
# - memory: a cdc object of over 300 MB (uncompressed) goes to S3 while the
#   worker's peak RSS stays below buffer_size + 100 MB.
#
# The emulators, SDKs and node come from ./scripts/test (npm ci into
# test/e2e/storage/node_modules); without them this test fails.
use strict;
use warnings;

use Cwd qw(abs_path);
use Digest::SHA;
use File::Find;
use File::Path qw(make_path);
use File::Spec;
use IO::Socket::INET;
use IPC::Run;
use JSON::PP;
use Time::HiRes qw(usleep time);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib "$FindBin::RealBin/..";
use ConvoyBackupTap qw(poll_until server_conf);

# Every wait is bounded; retries after a storage outage back off up to 60 s,
# so the waits for recovery get more.
my $wait_secs    = 60;
my $recover_secs = 100;
$PostgreSQL::Test::Utils::timeout_default = $wait_secs;
$ENV{NODE_NO_WARNINGS} = '1';    # the AWS SDK warns about node 20 on every start

my $test_start = time();
my $e2e        = abs_path("$FindBin::RealBin/../../e2e/storage");
my $work       = PostgreSQL::Test::Utils::tempdir();

# --- prerequisites: a missing emulator is a failure, not a skip ----------------

{
	my ($out, $err) = ('', '');
	my $node_ok =
	  eval { IPC::Run::run([ 'node', '--version' ], '<', \undef, '>', \$out, '2>', \$err) };
	my @missing;
	push @missing, 'node (not on PATH)' unless $node_ok;
	for my $module ('s3rver', 'azurite/dist/src/blob/main.js', '@aws-sdk/client-s3',
		'@azure/storage-blob', '@smithy/signature-v4')
	{
		push @missing, "$e2e/node_modules/$module" unless -e "$e2e/node_modules/$module";
	}
	if (@missing)
	{
		fail('emulators and SDKs are installed');
		diag "missing: $_" for @missing;
		diag 'run ./scripts/test (or npm ci --prefix test/e2e/storage) to install them';
		done_testing();
		exit 1;
	}
	chomp $out;
	note "node $out";
}

# --- emulators -------------------------------------------------------------------

my %procs;    # name => IPC::Run harness, stopped at the end whatever happens

END
{
	my $rc = $?;
	for my $h (values %procs) { eval { $h->kill_kill(grace => 2) }; }
	$? = $rc;
}

sub free_port
{
	my $sock = IO::Socket::INET->new(
		LocalAddr => '127.0.0.1',
		LocalPort => 0,
		Proto     => 'tcp',
		Listen    => 1,
		ReuseAddr => 1) or die "no free port: $!";
	my $port = $sock->sockport;
	close $sock;
	return $port;
}

sub port_open
{
	my ($port) = @_;
	my $sock = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port, Proto => 'tcp');
	return 0 unless $sock;
	close $sock;
	return 1;
}

# Calls $check until it returns true, for at most $secs seconds.
sub wait_for
{
	my ($secs, $check) = @_;
	my $deadline = time() + $secs;
	while (time() < $deadline)
	{
		return 1 if $check->();
		usleep(100_000);
	}
	return 0;
}

sub start_proc
{
	my ($name, $cmd, $out, %env) = @_;
	local @ENV{ keys %env } = values %env;
	$procs{$name} = IPC::Run::start($cmd, '<', \undef, '>', $out, '2>', "$out.err");
}

sub stop_proc
{
	my ($name) = @_;
	my $h = delete $procs{$name} or return;
	$h->kill_kill(grace => 5);
}

my $s3_key_id   = 'AKIDCONVOYTAP';
my $s3_secret   = sprintf('tap/S3cret+Key=%08x%08x', int(rand(2**32)), int(rand(2**32)));
my $s3_wrong    = sprintf('tap/Wr0ng+Key=%08x%08x', int(rand(2**32)), int(rand(2**32)));
my $bucket      = 'convoy-tap';
my $late_bucket = 'convoy-tap-late';
my $s3_log      = "$work/s3-requests.jsonl";
my $s3_starts   = 0;
my $s3_port;

# s3rver + signature checker; $port 0 lets the system pick (the first time).
sub start_s3
{
	my ($port) = @_;
	$s3_starts++;
	my $out = "$work/s3-$s3_starts.out";
	start_proc(
		's3',
		[
			'node', '--openssl-legacy-provider', "$e2e/s3-sigv4-proxy.js",
			'--port', $port, '--dir', "$work/s3rver", '--bucket', $bucket,
			'--access-key', $s3_key_id, '--log', $s3_log
		],
		$out,
		S3_PROXY_SECRET => $s3_secret);
	my $ready;
	wait_for(
		30,
		sub {
			open my $fh, '<', $out or return 0;
			local $/;
			my $text = <$fh> // '';
			close $fh;
			($ready) = $text =~ /^ready (\d+)$/m;
			return defined $ready;
		});
	die "s3 emulator did not start:\n" . (-e "$out.err" ? slurp_file("$out.err") : '')
	  unless $ready;
	return $ready;
}

$s3_port = start_s3(0);
my $s3_endpoint = "http://127.0.0.1:$s3_port";

my $az_account = 'devstoreaccount1';
# Azurite's well-known development key (public; not a secret).
my $az_key =
  'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';
my $az_container = 'convoy-tap';
my $az_port      = free_port();
my $az_endpoint  = "http://127.0.0.1:$az_port/$az_account";
start_proc(
	'azurite',
	[
		'node', "$e2e/node_modules/azurite/dist/src/blob/main.js",
		'--blobHost', '127.0.0.1', '--blobPort', $az_port,
		'--inMemoryPersistence',
		# The SDK sends a newer x-ms-version than Azurite knows; the extension
		# sends 2021-08-06. Strict mode otherwise (no --loose).
		'--skipApiVersionCheck', '--disableTelemetry', '--silent'
	],
	"$work/azurite.out");
ok(wait_for(30, sub { port_open($az_port) }), "Azurite listens on 127.0.0.1:$az_port")
  or die 'Azurite did not start: ' . slurp_file("$work/azurite.out.err");
note "S3 (s3rver + SigV4 checker) at $s3_endpoint, Azurite at $az_endpoint";

my %s3_env = (AWS_ACCESS_KEY_ID => $s3_key_id, AWS_SECRET_ACCESS_KEY => $s3_secret);
my %az_env = (AZURE_STORAGE_ACCOUNT => $az_account, AZURE_STORAGE_KEY => $az_key);

# Runs objects.js; returns (ok, stdout, stderr).
sub objects_js
{
	my ($env, @args) = @_;
	local @ENV{ keys %$env } = values %$env;
	my ($out, $err) = ('', '');
	my $ok = eval {
		IPC::Run::run([ 'node', "$e2e/objects.js", @args ],
			'<', \undef, '>', \$out, '2>', \$err, IPC::Run::timeout(180));
	};
	$err .= $@ if $@;
	return ($ok, $out, $err);
}

# Of the objects listed (and downloaded into $dir), the backup objects, once
# each has been found to have its manifest (docs/catalog.md) with the size and
# SHA-256 of the object as the store gives it back.
sub objects_with_manifests
{
	my ($store, $dir, @listed) = @_;
	my @objects = grep { $_->{key} !~ /\.manifest\.json$/ } @listed;
	my %manifests = map { $_->{key} => $_ } grep { $_->{key} =~ /\.manifest\.json$/ } @listed;
	my @bad;
	for my $object (@objects)
	{
		(my $key = $object->{key}) =~ s/\.jsonl\.gz$/.manifest.json/;
		my $listed = $manifests{$key};
		if (!$listed)
		{
			push @bad, "$object->{key}: no manifest";
			next;
		}
		push @bad, "$key: Content-Type " . ($listed->{content_type} // '(none)')
		  unless ($listed->{content_type} // '') eq 'application/json';
		my $m = decode_json(slurp_file("$dir/$key"));
		my $sha = Digest::SHA->new(256)->addfile("$dir/$object->{key}", 'b')->hexdigest;
		push @bad, "$key: describes $m->{key}, $m->{stored_bytes} bytes, $m->{sha256}"
		  unless $object->{key} =~ m{(?:^|/)\Q$m->{key}\E$}
		  && $m->{stored_bytes} == $object->{size}
		  && $m->{sha256} eq $sha;
	}
	is_deeply(\@bad, [], "$store: every object has a manifest with its size and checksum");
	is(scalar(keys %manifests), scalar(@objects), "$store: one manifest per object");
	return @objects;
}

# Downloads every object under $prefix with the official SDK into $dir;
# returns the list of { key, size, ... } it printed for the backup objects
# (checking their manifests, which it leaves out).
sub download
{
	my ($store, $where, $prefix, $dir) = @_;
	my @args =
	  $store eq 's3'
	  ? ('s3-download', '--endpoint', $s3_endpoint, '--bucket', $where)
	  : ('azure-download', '--endpoint', $az_endpoint, '--container', $where);
	my ($ok, $out, $err) =
	  objects_js($store eq 's3' ? \%s3_env : \%az_env, @args, '--prefix', $prefix, '--out', $dir);
	ok($ok, "$store: listed and downloaded $where/$prefix with the SDK") or diag $err;
	return objects_with_manifests($store, $dir, map { decode_json($_) } grep { /\S/ } split /\n/, $out);
}

# The proxy's request log, from line $from on (0-based).
sub s3_requests
{
	my ($from) = @_;
	return () unless -e $s3_log;
	my @lines = grep { /\S/ } split /\n/, slurp_file($s3_log);
	return map { decode_json($_) } @lines[ ($from // 0) .. $#lines ];
}

# --- the server ------------------------------------------------------------------

my $onprem      = "$work/onprem";
make_path($onprem);
my $storage_conf = 'convoy_storage.conf';
my $generation   = 0;
my %storage = (
	storage             => 's3',
	interval            => '1s',
	on_prem_path        => $onprem,
	s3_bucket           => $bucket,
	s3_endpoint         => $s3_endpoint,
	s3_force_path_style => 'on',
	s3_access_key       => $s3_key_id,
	s3_secret_key       => $s3_secret,
	s3_prefix           => 'tap/cdc',
	s3_part_size        => '5MB',
	azure_account_name  => $az_account,
	azure_account_key   => $az_key,
	azure_container     => $az_container,
	azure_endpoint      => $az_endpoint,
	azure_prefix        => 'tap/cdc',
	azure_block_size    => '1MB',
	storage_timeout     => '30s');

my $node = PostgreSQL::Test::Cluster->new('object_stores');

# Rewrites the storage settings file (mode 0600: it holds secrets), never
# through SQL, and returns once new sessions see it.
sub write_storage_conf
{
	my $file = $node->data_dir . "/$storage_conf";
	$generation++;
	open my $fh, '>', $file or die "cannot write $file: $!";
	chmod 0600, $file;
	print $fh "tap.generation = '$generation'\n";
	print $fh "convoy_backup.$_ = '$storage{$_}'\n" for sort keys %storage;
	close $fh;
}

sub set_storage
{
	my (%changes) = @_;
	@storage{ keys %changes } = values %changes;
	write_storage_conf();
	$node->reload;
	poll_until($node, 'SHOW tap.generation', $generation)
	  or die "configuration generation $generation not loaded";
}

$node->init(
	allows_streaming => 'logical',
	extra            => [ '--encoding=UTF8', '--locale=C' ]);
$node->append_conf(
	'postgresql.conf', server_conf() . qq{
timezone = 'Asia/Kolkata'
convoy_backup.database = 'postgres'
convoy_backup.tables = 'convoy.events'
include '$storage_conf'
});
write_storage_conf();
$node->start;

ok( poll_until(
		$node,
		"SELECT count(*) = 1 FROM pg_replication_slots WHERE slot_name = 'convoy_backup'"),
	'cdc worker created its slot');

sub query { return $node->safe_psql('postgres', $_[0]); }

query(q{
CREATE EXTENSION convoy_backup;
CREATE EXTENSION pgcrypto;
CREATE SCHEMA convoy;
CREATE TABLE convoy.events (
    id int8 PRIMARY KEY,
    batch text NOT NULL,
    created_at timestamptz NOT NULL,
    note text,
    tags text[],
    payload jsonb,
    blob bytea
);
-- What the objects are read into: one row per line.
CREATE TABLE stage (line text);
CREATE TABLE got (src text, file text, j jsonb);
});

is(query('SHOW convoy_backup.s3_secret_key'), '(set)', 'SHOW masks the S3 secret');
is( query(
		q{SELECT count(*) FROM pg_settings WHERE name IN ('convoy_backup.s3_secret_key', 'convoy_backup.azure_account_key')}
	),
	0,
	'secrets are not listed in pg_settings');

# Inserts one batch of rows, all with created_at on 2024-05-01 (the export
# window below): small transactions, then one transaction that carries three
# 2 MB random bytea values (incompressible: its object is over 5 MB gzipped).
sub insert_batch
{
	my ($batch, $first, %opt) = @_;
	my $sql = qq{
INSERT INTO convoy.events
SELECT g, '$batch', timestamptz '2024-05-01 00:00:00+00' + g * interval '1.5 second',
       'row ' || g || E' \\u00e9 "q" \\\\ tab\\t', ARRAY['t' || g, NULL],
       jsonb_build_object('g', g, 'even', g % 2 = 0), decode(md5(g::text), 'hex')
FROM generate_series($first, $first + 199) g;
};
	$sql .= "INSERT INTO convoy.events (id, batch, created_at, note) VALUES "
	  . "($_, '$batch', timestamptz '2024-05-01 00:00:00+00' + $_ * interval '1.5 second', 'single');\n"
	  for ($first + 200 .. $first + 209);
	if ($opt{big})
	{
		$sql .= qq{
BEGIN;
INSERT INTO convoy.events (id, batch, created_at, note)
SELECT g, '$batch', timestamptz '2024-05-01 00:00:00+00' + g * interval '1.5 second', 'small in big'
FROM generate_series($first + 300, $first + 349) g;
INSERT INTO convoy.events (id, batch, created_at, note, blob)
SELECT g, '$batch', timestamptz '2024-05-01 00:00:00+00' + g * interval '1.5 second', 'big',
       (SELECT decode(string_agg(md5(random()::text || i), ''), 'hex') FROM generate_series(1, 131072 + g - g) i)
FROM generate_series($first + 350, $first + 352) g;
COMMIT;
};
	}
	query($sql);
	return query("SELECT count(*) FROM convoy.events WHERE batch = '$batch'");
}

sub backed_up_rows
{
	return query("SELECT count(*) FROM convoy.events WHERE batch <> 'M'");
}

# Waits until the worker wrote exactly the rows of the table (the counters
# live as long as the server) and buffers nothing.
sub wait_all_written
{
	my ($what, $secs) = @_;
	my $n = backed_up_rows();
	ok( poll_until(
			$node, qq{
SELECT bool_and(buffered_rows = 0 AND rows_written = $n AND last_error IS NULL)
FROM convoy_backup.convoy_backup_status()}, 't', $secs // $wait_secs),
		"$what: all $n rows written, nothing buffered, no error")
	  or diag query('SELECT * FROM convoy_backup.convoy_backup_status()');
}

# Reads the downloaded gzip objects into got under $src.
sub load_objects
{
	my ($src, $dir, @keys) = @_;
	my $sql = '';
	for my $key (@keys)
	{
		my $path = "$dir/$key";
		die "unexpected quote in $path" if $path =~ /'/;
		$sql .= qq{
COPY stage FROM PROGRAM 'gzip -dc ''$path''' WITH (FORMAT csv, QUOTE E'\\x01', DELIMITER E'\\x02');
INSERT INTO got SELECT '$src', '$key', line::jsonb FROM stage;
TRUNCATE stage;
};
	}
	query($sql) if $sql ne '';
}

# Multiset comparison of two queries returning one jsonb column each.
sub same_multiset
{
	my ($left, $right, $name) = @_;
	my $diff = query(qq{
SET timezone = 'UTC';
SELECT (SELECT count(*) FROM (($left) EXCEPT ALL ($right)) a)
       || ' ' || (SELECT count(*) FROM (($right) EXCEPT ALL ($left)) b)
       || ' ' || (SELECT count(*) FROM ($left) c)
});
	my ($missing, $extra, $count) = split / /, $diff;
	ok($missing == 0 && $extra == 0 && $count > 0, $name)
	  or diag "$missing missing, $extra extra, $count rows";
}

sub expected_rows
{
	my ($batches) = @_;
	return "SELECT to_jsonb(e) AS j FROM convoy.events e WHERE batch IN ($batches)";
}

sub got_rows
{
	my ($srcs) = @_;
	return "SELECT j FROM got WHERE src IN ($srcs)";
}

my $cdc_key_re =
  qr{^tap/cdc/backup/(\d{4}-\d\d-\d\d)/convoy\.events/\1T\d\d:\d\d:\d\d\.\d{6}Z_[0-9A-F]{16}(?:_[1-9]\d*)?\.jsonl\.gz$};

sub check_cdc_objects
{
	my ($store, @objects) = @_;
	my @bad = grep { $_->{key} !~ $cdc_key_re } @objects;
	is(scalar(@bad), 0, "$store: object keys follow prefix/backup/{date}/{table}/{ts}_{lsn}")
	  or diag join("\n", map { $_->{key} } @bad);
	my @wrong_type = grep { ($_->{content_type} // '') ne 'application/gzip' } @objects;
	is(scalar(@wrong_type), 0, "$store: objects have Content-Type application/gzip");
	my @short = grep { $_->{size} != $_->{listed_size} } @objects;
	is(scalar(@short), 0, "$store: downloaded sizes match the listing");
}

# --- 1. cdc into S3, with a multipart upload ----------------------------------------

my $n_a = insert_batch('A', 1000, big => 1);
wait_all_written('S3');

my @s3_a = download('s3', $bucket, 'tap/cdc/', "$work/dl-s3-a");
check_cdc_objects('s3', @s3_a);
my ($largest) = sort { $b->{size} <=> $a->{size} } @s3_a;
cmp_ok($largest->{size} // 0, '>', 5 * 1024 * 1024, 's3: one object is over 5 MB compressed');
load_objects('s3-cdc', "$work/dl-s3-a", map { $_->{key} } @s3_a);
same_multiset(got_rows(q{'s3-cdc'}), expected_rows(q{'A'}),
	's3: cdc objects hold exactly to_jsonb of the inserted rows');

my @req = s3_requests(0);
my @parts = grep { $_->{method} eq 'PUT' && grep({ $_ eq 'partNumber' } @{ $_->{query} }) } @req;
my @completes =
  grep { $_->{method} eq 'POST' && "@{$_->{query}}" eq 'uploadId' && $_->{status} == 200 } @req;
cmp_ok(scalar(@parts), '>=', 2, 's3: the proxy saw multipart upload parts');
cmp_ok(scalar(@completes), '>=', 1, 's3: the proxy saw a completed multipart upload');
is(scalar(grep { ($_->{code} // '') eq 'SignatureDoesNotMatch' } @req),
	0, 's3: no signature failures');
is(scalar(grep { $_->{status} >= 300 } @req), 0, 's3: every request succeeded')
  or diag join("\n", map { encode_json($_) } grep { $_->{status} >= 300 } @req);
my $s3_log_mark = scalar(@req);

# --- 2. cdc into Azure, with Put Block List -----------------------------------------

{
	my ($ok, $out, $err) = objects_js(\%az_env, 'azure-container-exists',
		'--endpoint', $az_endpoint, '--container', $az_container);
	like($out, qr/"exists":false/, 'azure: the container does not exist yet') or diag $err;
}
set_storage(storage => 'azure_blob');
my $n_b = insert_batch('B', 5000, big => 1);
wait_all_written('Azure');

my @az_b = download('azure', $az_container, 'tap/cdc/', "$work/dl-az-b");
check_cdc_objects('azure', @az_b);
is(scalar(grep { $_->{blob_type} ne 'BlockBlob' } @az_b), 0, 'azure: block blobs');
cmp_ok((sort { $b <=> $a } map { $_->{committed_blocks} } @az_b)[0] // 0,
	'>', 1, 'azure: a large object was committed as a list of 1 MB blocks');
load_objects('az-cdc', "$work/dl-az-b", map { $_->{key} } @az_b);
same_multiset(got_rows(q{'az-cdc'}), expected_rows(q{'B'}),
	'azure: cdc objects hold exactly to_jsonb of the inserted rows; the extension created the container');

# --- 3. export matrix: the same records through convoy_backup_export() -------------

my $window = q{'2024-05-01 00:00:00+00', '2024-05-02 00:00:00+00'};
my $export_key_re =
  qr{^(?:tap/export/)?backup/2024-05-01/convoy\.events/2024-05-01T00:00:00(?:\.0+)?Z_export_2024-05-02T00:00:00(?:\.0+)?Z\.jsonl\.gz$};
my %export_store_re = (
	on_prem    => qr{^local directory "\Q$onprem\E"$},
	s3         => qr{^s3://\Q$bucket\E/tap/export at http://127\.0\.0\.1:\d+$},
	azure_blob => qr{^azure://[^/]+/\Q$az_container\E/tap/export at http://127\.0\.0\.1:\d+/});
for my $backend ('on_prem', 's3', 'azure_blob')
{
	set_storage(storage => $backend, s3_prefix => 'tap/export', azure_prefix => 'tap/export');
	my ($rc, $out, $err) = $node->psql('postgres',
		"SELECT table_name, rows, object_key, store FROM convoy_backup.convoy_backup_export($window)");
	is($rc, 0, "export to $backend: convoy_backup_export() succeeds in cdc mode") or diag $err;
	my ($table, $rows, $key, $where) = split /\|/, $out;
	is($table, 'convoy.events', "export to $backend: one object for convoy.events");
	is($rows, $n_a + $n_b, "export to $backend: all rows of the window");
	like($key // '', $export_key_re, "export to $backend: key backup/{date}/{table}/{start}_export_{end}");
	like($where // '', $export_store_re{$backend}, "export to $backend: the store it went to");
	# The key as stored: with the store's prefix (the directory has none).
	my $prefix = $backend eq 'on_prem' ? '' : 'tap/export/';
	like($key // '', qr{^\Q$prefix\Ebackup/}, "export to $backend: the key includes the prefix");
	$key =~ s{^\Q$prefix\E}{} if defined $key;
	next unless defined $key;
	if ($backend eq 'on_prem')
	{
		ok(-f "$onprem/$key", 'export to on_prem: the file exists');
		load_objects('export-on_prem', $onprem, $key);
	}
	else
	{
		my $store = $backend eq 's3' ? 's3' : 'azure';
		my @objects = download($store, $backend eq 's3' ? $bucket : $az_container,
			'tap/export/', "$work/dl-export-$store");
		is_deeply([ map { $_->{key} } @objects ], ["tap/export/$key"],
			"export to $backend: one object under the prefix");
		load_objects("export-$backend", "$work/dl-export-$store", map { $_->{key} } @objects);
	}
	same_multiset(got_rows(qq{'export-$backend'}), got_rows(q{'s3-cdc', 'az-cdc'}),
		"export to $backend: the same records as cdc wrote");
}
same_multiset(got_rows(q{'export-on_prem'}), expected_rows(q{'A', 'B'}),
	'export: the records equal to_jsonb of the rows');
set_storage(storage => 's3', s3_prefix => 'tap/cdc', azure_prefix => 'tap/cdc');

# --- 4. failures: status, buffering, the slot, recovery -------------------------------

sub status_field
{
	my ($field, $scope) = @_;
	return query(
		"SELECT $field FROM convoy_backup.convoy_backup_status() WHERE scope = '$scope'");
}

# Checks that the worker reports an error matching $re (table and worker row),
# keeps rows buffered and leaves the slot behind $lsn_after (the end of the
# batch's WAL).
sub check_outage
{
	my ($what, $re, $lsn_after) = @_;
	ok( poll_until(
			$node, qq{
SELECT count(*) = 2 FROM convoy_backup.convoy_backup_status()
WHERE scope IN ('worker', 'convoy.events') AND last_error ~* '$re'}),
		"$what: last_error of the worker and the table shows it")
	  or diag query('SELECT scope, last_error FROM convoy_backup.convoy_backup_status()');
	note "$what: last_error: " . status_field('last_error', 'convoy.events');
	cmp_ok(status_field('buffered_rows', 'convoy.events'), '>', 0, "$what: rows stay buffered");
	my $confirmed = status_field('confirmed_lsn', 'worker');
	my $slot = query(
		"SELECT confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = 'convoy_backup'");
	is(query("SELECT '$slot'::pg_lsn < '$lsn_after'"), 't', "$what: the slot is behind the batch");
	usleep(2_000_000);
	is( query(
			"SELECT confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = 'convoy_backup'"),
		$slot, "$what: the slot does not advance");
	is(status_field('confirmed_lsn', 'worker'), $confirmed, "$what: confirmed_lsn does not advance");
}

# 4a. A wrong secret: refused by the signature check.
set_storage(s3_secret_key => $s3_wrong);
my $log_offset = -s $node->logfile;
insert_batch('C', 9000);
my $lsn_c = query('SELECT pg_current_wal_lsn()');
check_outage('wrong S3 secret', 'SignatureDoesNotMatch|403', $lsn_c);
my $warnings = () = slurp_file($node->logfile, $log_offset) =~
  /WARNING:  convoy_backup could not write backup object for table convoy\.events: .*(?:SignatureDoesNotMatch|403)/g;
cmp_ok($warnings, '>=', 1, 'wrong S3 secret: a WARNING is logged');
cmp_ok($warnings, '<=', 3, 'wrong S3 secret: not on every retry');
set_storage(s3_secret_key => $s3_secret);
wait_all_written('fixed secret', $recover_secs);
ok(poll_until($node, "SELECT confirmed_lsn >= '$lsn_c' FROM convoy_backup.convoy_backup_status() WHERE scope = 'worker'"),
	'fixed secret: the slot moves past the batch');

# 4b. A bucket that does not exist yet.
set_storage(s3_bucket => $late_bucket);
insert_batch('D', 13000);
my $lsn_d = query('SELECT pg_current_wal_lsn()');
check_outage('missing bucket', 'NoSuchBucket', $lsn_d);
{
	my ($ok, $out, $err) = objects_js(\%s3_env, 's3-create-bucket',
		'--endpoint', $s3_endpoint, '--bucket', $late_bucket);
	ok($ok, 'missing bucket: created with the SDK') or diag $err;
}
wait_all_written('created bucket', $recover_secs);

# 4c. The emulator stops, and comes back on the same port.
stop_proc('s3');
ok(!port_open($s3_port), 'S3 emulator stopped');
insert_batch('E', 17000, big => 1);
my $lsn_e = query('SELECT pg_current_wal_lsn()');
check_outage('S3 emulator down', 'connect|unavailable|refused', $lsn_e);
is(start_s3($s3_port), $s3_port, 'S3 emulator restarted on the same port');
wait_all_written('S3 back', $recover_secs);

# Nothing lost, nothing twice: every cdc object of every store, read back now.
query("DELETE FROM got WHERE src IN ('s3-cdc', 'az-cdc')");
my @final_s3   = download('s3', $bucket, 'tap/cdc/', "$work/dl-final-s3");
my @final_late = download('s3', $late_bucket, 'tap/cdc/', "$work/dl-final-late");
my @final_az   = download('azure', $az_container, 'tap/cdc/', "$work/dl-final-az");
check_cdc_objects('s3 after failures', @final_s3, @final_late);
load_objects('final', "$work/dl-final-s3", map { $_->{key} } @final_s3);
load_objects('final', "$work/dl-final-late", map { $_->{key} } @final_late);
load_objects('final', "$work/dl-final-az", map { $_->{key} } @final_az);
same_multiset(got_rows(q{'final'}), expected_rows(q{'A', 'B', 'C', 'D', 'E'}),
	'after the failures: every row exactly once across all stores');
same_multiset(
	"SELECT j FROM got WHERE src = 'final' AND j->>'batch' IN ('D', 'E') AND file IN ("
	  . join(', ', "''", map { "'$_->{key}'" } @final_late) . ')',
	expected_rows(q{'D', 'E'}),
	'after the failures: the late bucket holds the rows written after the switch');
@req = s3_requests($s3_log_mark);
is(scalar(grep { ($_->{code} // '') eq 'SignatureDoesNotMatch' && $_->{path} !~ m{^/$bucket/tap/cdc/} } @req),
	0, 'signature failures only for the objects written with the wrong secret');

# --- 5. memory: one object of over 300 MB uncompressed ---------------------------------

# 320k rows of ~1 kB (random base64: gzip keeps about 3/4 of it) in 10k-row
# transactions, all buffered (interval 1h) and then written as one object when
# a reload shortens the interval. The upload buffers one 5 MB part at a time.
# A batch is started early once half the pool is filled: the pool is sized so
# that all rows fit in that half.
my $buffer_mb = 700;
my $mem_rows  = 320_000;
$node->stop('fast');
$node->append_conf('postgresql.conf', "convoy_backup.buffer_size = '${buffer_mb}MB'\n");
$storage{interval} = '1h';
write_storage_conf();
$node->start;
my $worker_pid = '';
ok( wait_for(
		$wait_secs,
		sub {
			$worker_pid = query(
				"SELECT pid FROM pg_stat_activity WHERE backend_type = 'convoy_backup cdc worker'");
			return $worker_pid =~ /^\d+$/;
		}),
	'memory: cdc worker running after the restart');
my $objects_before = status_field('objects_written', 'convoy.events');
my $mem_start = time();
query(join(
		"\n",
		map {
			my $first = 100_000 + $_ * 10_000;
			qq{INSERT INTO convoy.events (id, batch, created_at, note)
SELECT g, 'M', timestamptz '2024-06-01 00:00:00+00' + g * interval '1 second',
       translate(encode(gen_random_bytes(720), 'base64'), E'\\n', '')
FROM generate_series($first, $first + 9999) g;}
		} 0 .. $mem_rows / 10_000 - 1));
ok( poll_until(
		$node,
		"SELECT buffered_rows FROM convoy_backup.convoy_backup_status() WHERE scope = 'convoy.events'",
		$mem_rows, 120),
	"memory: $mem_rows rows buffered");
my $mem_log_mark = scalar(s3_requests(0));
set_storage(interval => '1s');
ok( poll_until(
		$node,
		"SELECT rows_written = $mem_rows AND buffered_rows = 0 FROM convoy_backup.convoy_backup_status() WHERE scope = 'convoy.events'",
		't', 120),
	'memory: all rows written');
is(status_field('objects_written', 'convoy.events') - $objects_before, 1, 'memory: as one object');
my $status = slurp_file("/proc/$worker_pid/status");
my ($hwm_kb) = $status =~ /^VmHWM:\s+(\d+) kB/m;
my ($rss_shmem_kb) = $status =~ /^RssShmem:\s+(\d+) kB/m;
note sprintf('memory: worker peak RSS %d MB (shared memory now %d MB), buffer_size %d MB, %.0f s',
	$hwm_kb / 1024, ($rss_shmem_kb // 0) / 1024, $buffer_mb, time() - $mem_start);
cmp_ok($hwm_kb, '<', ($buffer_mb + 100) * 1024, 'memory: worker peak RSS below buffer_size + 100 MB');

@req = s3_requests($mem_log_mark);
my @mem_parts = grep { $_->{method} eq 'PUT' && grep({ $_ eq 'partNumber' } @{ $_->{query} }) } @req;
cmp_ok(scalar(@mem_parts), '>=', 20, 'memory: uploaded in many parts') or diag scalar(@mem_parts);
is(scalar(grep { $_->{bytes} > 5 * 1024 * 1024 } @mem_parts), 0, 'memory: no part over 5 MB');
my @mem_objects = grep { $_->{method} eq 'POST' && "@{$_->{query}}" eq 'uploadId' && $_->{status} == 200 } @req;
is(scalar(@mem_objects), 1, 'memory: one completed multipart upload');
if (@mem_objects)
{
	my $key = $mem_objects[0]{path};
	$key =~ s{^/\Q$bucket\E/}{};
	$key =~ s{^/\Q$late_bucket\E/}{};
	my ($ok, $out, $err) = objects_js(\%s3_env, 's3-download', '--endpoint', $s3_endpoint,
		'--bucket', $late_bucket, '--prefix', $key, '--out', "$work/dl-mem");
	ok($ok, 'memory: the object reads back with the SDK') or diag $err;
	my ($lines, $bytes) = split ' ', `gzip -dc '$work/dl-mem/$key' | wc -lc`;
	is($lines, $mem_rows, 'memory: the object holds every row');
	cmp_ok($bytes, '>', 300 * 1024 * 1024, 'memory: over 300 MB uncompressed');
	note sprintf('memory: object %.0f MB compressed, %.0f MB uncompressed',
		(-s "$work/dl-mem/$key") / 1048576, $bytes / 1048576);
	unlink "$work/dl-mem/$key";
}

# --- secrets never reach the log -------------------------------------------------------

my $log = slurp_file($node->logfile);
for my $secret ([ 'S3 secret', $s3_secret ], [ 'wrong S3 secret', $s3_wrong ],
	[ 'Azure account key', $az_key ])
{
	my @lines = grep { index($_, $secret->[1]) >= 0 } split /\n/, $log;
	my @ours = grep { !/LOG:  parameter "convoy_backup\.[a-z0-9_]+" changed to/ } @lines;
	is(scalar(@ours), 0, "the $secret->[0] is in no message of the extension")
	  or diag join("\n", @ours);
	is(scalar(@lines), 0, "the $secret->[0] appears nowhere in the server log")
	  or diag join("\n", map { s/\Q$secret->[1]\E/<$secret->[0]>/gr } @lines);
}
unlike($log, qr/terminated by signal/, 'no server process crashed');

$node->stop('fast');
stop_proc($_) for keys %procs;
note sprintf('total %.0f s', time() - $test_start);
done_testing();
