# Helpers shared by convoy_backup's TAP tests (test/tap/t/*.pl).
package ConvoyBackupTap;

use strict;
use warnings;

use Exporter 'import';
use File::Find;
use IO::Uncompress::Gunzip qw(gunzip $GunzipError);
use JSON::PP;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils qw(slurp_file);
use Test::More;
use Time::HiRes qw(usleep time);

our @EXPORT_OK = qw(poll_until server_conf start_cdc_node object_files object_rows log_shows count_in_log);

# Every wait is bounded by this much wall-clock time. poll_query_until() is not
# used: its attempt count stretches a nominal 60 s to minutes under load.
our $wait_secs = 60;

# Runs $query on $node until it returns $expected (default 't'), for at most
# $secs seconds (default $wait_secs). Returns true if it did.
sub poll_until
{
	my ($node, $query, $expected, $secs) = @_;
	$expected = 't' unless defined $expected;
	$secs = $wait_secs unless defined $secs;
	my $deadline = time() + $secs;
	my $last = '';
	while (time() < $deadline)
	{
		my ($rc, $out, $err) = $node->psql('postgres', $query);
		$last = "rc=$rc out=$out err=$err";
		return 1 if $rc == 0 && $out eq $expected;
		usleep(100_000);
	}
	diag "timed out after $secs s waiting for '$expected' from: $query\nlast: $last";
	return 0;
}

# The postgresql.conf lines every test cluster with the extension starts from:
# the library preloaded and allowed to decode (PostgreSQL 15.19+, 17.11+, 18.6+ only
# loads output plugins listed in output_plugin_libraries), and logical WAL
# unless wal_level => undef is passed (export mode needs none).
sub server_conf
{
	my %opt = (wal_level => 'logical', @_);
	my $conf = "shared_preload_libraries = 'convoy_backup'\n";
	$conf .= "wal_level = $opt{wal_level}\n" if defined $opt{wal_level};
	$conf .= "output_plugin_libraries = 'pgoutput, test_decoding, convoy_backup'\n";
	$conf .= "max_connections = 20\n";
	return $conf;
}

# A started cluster named $name in cdc mode, writing objects below $storage,
# with convoy_backup.* settings from %settings (name without the prefix =>
# value), once the cdc worker has created its slot.
sub start_cdc_node
{
	my ($name, $storage, %settings) = @_;
	my $node = PostgreSQL::Test::Cluster->new($name);
	$node->init(allows_streaming => 'logical');
	my $conf = server_conf()
	  . "convoy_backup.database = 'postgres'\n"
	  . "convoy_backup.on_prem_path = '$storage'\n";
	$conf .= "convoy_backup.$_ = '$settings{$_}'\n" for sort keys %settings;
	$node->append_conf('postgresql.conf', $conf);
	$node->start;
	ok(poll_until($node, "SELECT count(*) = 1 FROM pg_replication_slots WHERE slot_name = 'convoy_backup'"),
		"$name: cdc slot created");
	return $node;
}

# The backup objects (*.jsonl.gz) below $dir, sorted by path.
sub object_files
{
	my ($dir) = @_;
	my @files;
	find(
		{
			no_chdir => 1,
			wanted   => sub { push @files, $_ if -f $_ && /\.jsonl\.gz$/ }
		},
		$dir);
	my @sorted = sort @files;
	return @sorted;    # (a count in scalar context)
}

# Every line of every object below $dir, decoded from JSON.
sub object_rows
{
	my ($dir) = @_;
	my @rows;
	for my $file (object_files($dir))
	{
		my $text;
		gunzip($file => \$text, MultiStream => 1) or die "gunzip $file: $GunzipError";
		push @rows, JSON::PP->new->decode($_) for split /\n/, $text;
	}
	return @rows;
}

# Waits until the server log (from byte $offset on) matches $re.
sub log_shows
{
	my ($node, $re, $offset) = @_;
	my $deadline = time() + $wait_secs;
	while (time() < $deadline)
	{
		return 1 if slurp_file($node->logfile, $offset // 0) =~ $re;
		usleep(100_000);
	}
	diag "timed out waiting for log line matching $re in " . $node->logfile;
	return 0;
}

# How often $text occurs in the server log (from byte $offset on).
sub count_in_log
{
	my ($node, $text, $offset) = @_;
	my $log = slurp_file($node->logfile, $offset // 0);
	my $n = () = $log =~ /\Q$text\E/g;
	return $n;
}

1;
