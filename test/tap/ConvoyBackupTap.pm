# Helpers shared by convoy_backup's TAP tests (test/tap/t/*.pl).
package ConvoyBackupTap;

use strict;
use warnings;

use Exporter 'import';
use Test::More;
use Time::HiRes qw(usleep time);

our @EXPORT_OK = qw(poll_until);

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

1;
