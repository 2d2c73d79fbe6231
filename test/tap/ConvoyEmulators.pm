# The loopback object stores of the TAP tests that read backups back: s3rver
# behind test/e2e/storage/s3-sigv4-proxy.js (which checks every SigV4
# signature) and Azurite in strict mode, and test/e2e/storage/objects.js to
# look at and change what they hold with the official SDKs. The emulators come
# from ./scripts/test (npm ci into test/e2e/storage/node_modules); without them
# the test fails rather than skips. They stop when the test ends.
package ConvoyEmulators;

use strict;
use warnings;

use Cwd qw(abs_path);
use Exporter 'import';
use FindBin;
use IO::Socket::INET;
use IPC::Run;
use JSON::PP;
use PostgreSQL::Test::Utils qw(slurp_file);
use Test::More;
use Time::HiRes qw(usleep time);

our @EXPORT_OK = qw(emulators_installed start_s3 start_azurite objects_js);

my $e2e = abs_path("$FindBin::RealBin/../../e2e/storage");
my %procs;

END
{
	my $rc = $?;
	for my $h (values %procs) { eval { $h->kill_kill(grace => 2) }; }
	$? = $rc;
}

# Fails the test (and says how to install them) unless node and the emulators are there.
sub emulators_installed
{
	my ($out, $err) = ('', '');
	my @missing;
	push @missing, 'node (not on PATH)'
	  unless eval { IPC::Run::run([ 'node', '--version' ], '<', \undef, '>', \$out, '2>', \$err) };
	for my $module ('s3rver', 'azurite/dist/src/blob/main.js', '@aws-sdk/client-s3',
		'@azure/storage-blob', '@smithy/signature-v4')
	{
		push @missing, "$e2e/node_modules/$module" unless -e "$e2e/node_modules/$module";
	}
	return 1 unless @missing;
	fail('emulators and SDKs are installed');
	diag "missing: $_" for @missing;
	diag 'run ./scripts/test (or npm ci --prefix test/e2e/storage) to install them';
	return 0;
}

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

# s3rver behind the signature checker, with one bucket; returns its endpoint
# and the environment objects.js needs.
sub start_s3
{
	my (%opt) = @_;    # work, bucket, key_id, secret
	my $out = "$opt{work}/s3.out";
	local $ENV{S3_PROXY_SECRET} = $opt{secret};
	$procs{s3} = IPC::Run::start(
		[
			'node', '--openssl-legacy-provider', "$e2e/s3-sigv4-proxy.js",
			'--port', 0, '--dir', "$opt{work}/s3rver", '--bucket', $opt{bucket},
			'--access-key', $opt{key_id}
		],
		'<', \undef, '>', $out, '2>', "$out.err");
	my $port;
	wait_for(
		30,
		sub {
			my $text = -e $out ? slurp_file($out) : '';
			($port) = $text =~ /^ready (\d+)$/m;
			return defined $port;
		}) or die "s3 emulator did not start:\n" . (-e "$out.err" ? slurp_file("$out.err") : '');
	return ("http://127.0.0.1:$port",
		{ AWS_ACCESS_KEY_ID => $opt{key_id}, AWS_SECRET_ACCESS_KEY => $opt{secret} });
}

# Azurite's blob service; returns its endpoint, the account and its (public,
# well-known development) key, and the environment objects.js needs.
sub start_azurite
{
	my (%opt) = @_;    # work
	my $account = 'devstoreaccount1';
	my $key =
	  'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';
	my $port = free_port();
	$procs{azurite} = IPC::Run::start(
		[
			'node', "$e2e/node_modules/azurite/dist/src/blob/main.js",
			'--blobHost', '127.0.0.1', '--blobPort', $port, '--inMemoryPersistence',
			'--skipApiVersionCheck', '--disableTelemetry', '--silent'
		],
		'<', \undef, '>', "$opt{work}/azurite.out", '2>', "$opt{work}/azurite.out.err");
	wait_for(
		30,
		sub {
			my $sock =
			  IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port, Proto => 'tcp');
			return 0 unless $sock;
			close $sock;
			return 1;
		}) or die 'Azurite did not start: ' . slurp_file("$opt{work}/azurite.out.err");
	return ("http://127.0.0.1:$port/$account", $account, $key,
		{ AZURE_STORAGE_ACCOUNT => $account, AZURE_STORAGE_KEY => $key });
}

# Runs objects.js with $env; returns the JSON lines it printed, dies on failure.
sub objects_js
{
	my ($env, @args) = @_;
	local @ENV{ keys %$env } = values %$env;
	local $ENV{NODE_NO_WARNINGS} = '1';
	my ($out, $err) = ('', '');
	my $ok = eval {
		IPC::Run::run([ 'node', "$e2e/objects.js", @args ],
			'<', \undef, '>', \$out, '2>', \$err, IPC::Run::timeout(180));
	};
	die "objects.js @args failed: $err $@" unless $ok;
	return map { decode_json($_) } grep { /\S/ } split /\n/, $out;
}

1;
