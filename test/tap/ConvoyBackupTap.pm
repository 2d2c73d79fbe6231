# Helpers shared by convoy_backup's TAP tests (test/tap/t/*.pl).
package ConvoyBackupTap;

use strict;
use warnings;

use Digest::SHA qw(sha256_hex);
use Exporter 'import';
use File::Find;
use File::Spec;
use IO::Uncompress::Gunzip qw(gunzip $GunzipError);
use JSON::PP;
use Time::Local qw(timegm);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils qw(slurp_file);
use Test::More;
use Time::HiRes qw(usleep time);

our @EXPORT_OK = qw(poll_until server_conf start_cdc_node object_files object_rows log_shows count_in_log
  manifest_files manifest_problems time_micros);

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

# The manifests (*.manifest.json) below $dir, sorted by path.
sub manifest_files
{
	my ($dir) = @_;
	my @files;
	find(
		{
			no_chdir => 1,
			wanted   => sub { push @files, $_ if -f $_ && /\.manifest\.json$/ }
		},
		$dir);
	my @sorted = sort @files;
	return @sorted;
}

# A time as a row's JSON or a manifest spells it (timestamptz with an offset,
# timestamp, date, RFC 3339 with Z, infinity), in microseconds since the Unix
# epoch (UTC; a time without offset is read as UTC); "infinity" and
# "-infinity" stay as they are.
sub time_micros
{
	my ($text) = @_;
	return $text if $text eq 'infinity' || $text eq '-infinity';
	$text =~ /^(\d{4})-(\d\d)-(\d\d)(?:T(\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))?)?(Z|([+-])(\d\d):(\d\d))?$/
	  or die "not a time: $text";
	my $micros = timegm($6 // 0, $5 // 0, $4 // 0, $3, $2 - 1, $1) * 1_000_000;
	$micros += substr(($7 // '') . '000000', 0, 6);
	$micros -= ($9 eq '+' ? 1 : -1) * ($10 * 3600 + $11 * 60) * 1_000_000 if defined $9;
	return $micros;
}

# Checks every object below $dir against its manifest, from the files alone:
# each *.jsonl.gz has a manifest whose key, source, rows, raw_bytes,
# stored_bytes and sha256 are what the object holds, and each manifest has its
# object. With $time_columns (table => column), time_min and time_max must be
# the least and greatest non-null value of that column among the object's rows
# (null when there is none), and time_column must name it. Returns the
# problems found (empty when none) and the manifests read, by object path
# relative to $dir.
sub manifest_problems
{
	my ($dir, $time_columns) = @_;
	my (@problems, %manifests);
	for my $file (object_files($dir))
	{
		my $rel = File::Spec->abs2rel($file, $dir);
		(my $manifest_file = $file) =~ s/\.jsonl\.gz$/.manifest.json/;
		if (!-f $manifest_file)
		{
			push @problems, "$rel: no manifest";
			next;
		}
		my $text = slurp_file($manifest_file);
		push @problems, "$rel: manifest is not one line of JSON" unless $text =~ /^\{[^\n]*\}\n$/;
		my $m = eval { JSON::PP->new->utf8->decode($text) };
		if (!$m)
		{
			push @problems, "$rel: manifest does not parse: $@";
			next;
		}
		$manifests{$rel} = $m;
		my $stored = slurp_file($file);
		my $raw;
		gunzip(\$stored => \$raw, MultiStream => 1) or die "gunzip $file: $GunzipError";
		my @lines = split /\n/, $raw;
		my %expected = (
			format       => 1,
			key          => $rel,
			source       => ($rel =~ /_export_/ ? 'export' : 'cdc'),
			rows         => scalar(@lines),
			raw_bytes    => length($raw),
			stored_bytes => length($stored),
			sha256       => sha256_hex($stored));
		for my $field (sort keys %expected)
		{
			my $got = $m->{$field} // '(none)';
			push @problems, "$rel: $field is $got, expected $expected{$field}"
			  unless $got eq $expected{$field};
		}
		next unless $time_columns && defined $time_columns->{ $m->{table} };
		my $column = $time_columns->{ $m->{table} };
		push @problems, "$rel: time_column is $m->{time_column}, expected $column"
		  unless $m->{time_column} eq $column;
		my ($min, $max);
		for my $line (@lines)
		{
			my $value = JSON::PP->new->decode($line)->{$column};
			next unless defined $value;
			my $t = time_micros($value);
			$min = $t if !defined $min || before($t, $min);
			$max = $t if !defined $max || before($max, $t);
		}
		for (['time_min', $min], ['time_max', $max])
		{
			my ($field, $want) = @$_;
			my $got = defined $m->{$field} ? time_micros($m->{$field}) : undef;
			push @problems, "$rel: $field is " . ($m->{$field} // 'null') . ', expected ' . ($want // 'null')
			  unless (defined $got ? $got : 'null') eq (defined $want ? $want : 'null');
		}
	}
	for my $file (manifest_files($dir))
	{
		(my $object = $file) =~ s/\.manifest\.json$/.jsonl.gz/;
		push @problems, File::Spec->abs2rel($file, $dir) . ': manifest without its object'
		  unless -f $object;
	}
	return (\@problems, \%manifests);
}

# Order of time_micros() values.
sub before
{
	my ($x, $y) = @_;
	return 0 if $x eq $y;
	return 1 if $x eq '-infinity' || $y eq 'infinity';
	return 0 if $x eq 'infinity' || $y eq '-infinity';
	return $x < $y;
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
