# Helpers shared by convoy_backup's TAP tests (test/tap/t/*.pl).
package ConvoyBackupTap;

use strict;
use warnings;

use Exporter 'import';
use Test::More;
use Time::HiRes qw(usleep time);

our @EXPORT_OK = qw(poll_until server_conf);

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
# the library preloaded and allowed to decode (Debian's PostgreSQL 15.19+ only
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

1;
