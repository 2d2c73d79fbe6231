# Copyright (c) convoy_backup authors
#
# A large transaction is split into the same parts however the server is
# configured (issue 10, item 7): it is decoded and written in parts, the server
# crashes before the slot moves past it, and it is decoded again after a
# restart with another buffer_size, another table list and another
# extra_float_digits (which changes the rows' JSON text). The parts written the
# second time must replace those of the first under the same keys: every row
# is in storage exactly once. Part keys sort in commit order.
use strict;
use warnings;

use File::Basename qw(basename);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib "$FindBin::RealBin/..";
use ConvoyBackupTap qw(poll_until server_conf start_cdc_node object_files object_rows);

$PostgreSQL::Test::Utils::timeout_default = 120;

my $rows    = 200_000;
my $storage = PostgreSQL::Test::Utils::tempdir();
my $node    = start_cdc_node('stable_splits', $storage, interval => '1h', buffer_size => '8MB', tables => 'public.big');

sub query { return $node->safe_psql('postgres', $_[0]); }

query(q{
CREATE EXTENSION convoy_backup;
CREATE TABLE big (id bigint PRIMARY KEY, f float8, payload text);
INSERT INTO big VALUES (0, 0.1, 'first');
});
# Row 0 stays buffered (the interval is an hour), so the slot cannot move past
# the large transaction that follows.
ok(poll_until($node, q{SELECT buffered_rows = 1 FROM convoy_backup.convoy_backup_status() WHERE scope = 'worker'}),
	'a small transaction is buffered');
query(qq{INSERT INTO big SELECT g, g / 3.0, repeat('x', 40) || g FROM generate_series(1, $rows) g});
ok(poll_until($node, "SELECT rows_written >= $rows FROM convoy_backup.convoy_backup_status() WHERE scope = 'worker'"),
	'the large transaction is written in parts');
my @first = map { basename($_) } object_files($storage);
cmp_ok(scalar(@first), '>=', 2, 'it was written as several objects');

# A crash, then a restart with settings that change the pool, the table list
# and the rows' JSON text.
$node->stop('immediate');
$node->append_conf(
	'postgresql.conf', q{
convoy_backup.buffer_size = '32MB'
convoy_backup.tables = 'public.big, public.other'
extra_float_digits = 0
});
$node->start;
ok(poll_until($node, "SELECT rows_written >= $rows FROM convoy_backup.convoy_backup_status() WHERE scope = 'worker'"),
	'the large transaction is written again after the restart');
$node->stop('fast');    # writes row 0 too

my @second = map { basename($_) } object_files($storage);
my %second = map { $_ => 1 } @second;
is(scalar(grep { !$second{$_} } @first), 0, 'every object key of the first pass was written again');
is(scalar(@second), scalar(@first) + 1, 'and only one more: the object of row 0');
my @backed_up = object_rows($storage);
my %seen;
$seen{ $_->{id} }++ for @backed_up;
is(scalar(@backed_up), $rows + 1, 'every row once: no part of the first pass is left beside the second');
is(scalar(keys %seen), $rows + 1, 'every id is there');
is(scalar(grep { $seen{$_} > 1 } keys %seen), 0, 'no id twice');

# The parts of one transaction, in key order, start at increasing rows.
my %parts;
for my $key (@second)
{
	next unless $key =~ /^(.*_[0-9A-F]{16})(?:_(\d+))?\.jsonl\.gz$/;
	push @{ $parts{$1} }, ($2 // 0) + 0;
}
my ($large) = grep { @{ $parts{$_} } > 1 } keys %parts;
ok(defined $large, 'the large transaction has several parts');
my @in_key_order = @{ $parts{ $large // '' } // [] };
is_deeply(\@in_key_order, [ sort { $a <=> $b } @in_key_order ], 'part keys sort in row order');

done_testing();
