
# Copyright (c) convoy_backup authors
#
# Permissions of on_prem objects (issue 14 item 3): 0600 files in 0700
# directories by default; convoy_backup.on_prem_file_mode = '0640' makes them
# group-readable (0640, directories 0750) from the next write after a reload;
# anything more open is refused.
use strict;
use warnings;

use File::Find;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib "$FindBin::RealBin/..";
use ConvoyBackupTap qw(poll_until start_cdc_node object_files);

$PostgreSQL::Test::Utils::timeout_default = 60;

# Modes (as octal text) of every file and directory below $dir, by kind.
sub modes_below
{
	my ($dir) = @_;
	my (%files, %dirs);
	find(
		{
			wanted => sub {
				return if $File::Find::name eq $dir;
				my $mode = sprintf('%04o', (stat($_))[2] & 07777);
				if (-d $_) { $dirs{$mode}++ } else { $files{$mode}++ }
			},
			no_chdir => 1
		},
		$dir);
	return (join(',', sort keys %files), join(',', sort keys %dirs));
}

my $storage = PostgreSQL::Test::Utils::tempdir();
my $node = start_cdc_node('object_modes', $storage, interval => '1s', tables => 'public.t');
$node->safe_psql('postgres',
	'CREATE EXTENSION convoy_backup; CREATE TABLE public.t (id int); INSERT INTO public.t VALUES (1)');
ok(poll_until($node, q{SELECT objects_written >= 1 FROM convoy_backup.convoy_backup_status() WHERE scope = 'worker'}),
	'default: an object was written');
my ($files, $dirs) = modes_below($storage);
is($files, '0600', 'default: objects are 0600');
is($dirs,  '0700', 'default: directories are 0700');

my ($rc, $out, $err) = $node->psql('postgres', q{ALTER SYSTEM SET convoy_backup.on_prem_file_mode = '0644'});
isnt($rc, 0, '0644 is refused');
like($err, qr/convoy_backup\.on_prem_file_mode must be '0600' or '0640'/, 'the error names the allowed values');

my $storage2 = PostgreSQL::Test::Utils::tempdir();
$node->safe_psql('postgres', "ALTER SYSTEM SET convoy_backup.on_prem_path = '$storage2';"
	  . "ALTER SYSTEM SET convoy_backup.on_prem_file_mode = '0640'; SELECT pg_reload_conf()");
sleep 2;    # the worker reads the reload when it wakes
$node->safe_psql('postgres', 'INSERT INTO public.t VALUES (2)');
ok(poll_until($node, q{SELECT rows_written >= 2 FROM convoy_backup.convoy_backup_status() WHERE scope = 'worker'}),
	'0640: a second object was written');
ok(scalar(object_files($storage2)) >= 1, '0640: it is in the new directory');
($files, $dirs) = modes_below($storage2);
is($files, '0640', '0640: objects are group-readable');
is($dirs,  '0750', '0640: directories are 0750');

$node->stop('fast');
done_testing();
