# shellcheck shell=bash
# Debian chroots with the PostgreSQL majors that Debian 12 does not package,
# created on demand and cached. Requires lib/common.sh and lib/packages.sh.
#
# Each major gets one chroot, made by debootstrap from the Debian mirror that
# the host's apt sources already name (CONVOY_DEBIAN_MIRROR overrides it):
#   17  trixie (Debian 13)
#   18  forky (testing; Debian 12's debootstrap has no forky script, so the sid
#       script builds it)
# It lives in $CHROOT_CACHE/pg<major> (default .cache/chroots/ in the
# repository, git-ignored; CONVOY_CHROOT_DIR overrides the folder). The marker
# .ready is written last, only into a complete chroot, next to .convoy-stamp,
# which describes what the chroot was built from (suite, packages, layout
# revision): a chroot without the marker or with another stamp is rebuilt.
#
# The cached chroot is never changed by a run. chroot_exec runs a command in an
# overlay of it whose changes go to a run folder of the caller (the extension
# installed into the chroot's PostgreSQL, the copy of the repository, the
# clusters), so runs of two working trees never see each other's library and a
# finished run leaves nothing behind in the cache. The overlay, /proc and
# /dev/shm (bind mounts) exist only in a private mount namespace of the
# command: they are unmounted when it ends and the host never sees them, even
# if the run is killed. A shared lock on the chroot, held until the calling
# script exits, keeps it from being rebuilt under a run.

# Majors that run in a chroot, and the Debian suite (and debootstrap script)
# that packages each.
readonly CHROOT_PG_MAJORS=(17 18)
declare -rA CHROOT_SUITE=([17]=trixie [18]=forky)
declare -rA CHROOT_DEBOOTSTRAP_SCRIPT=([17]=trixie [18]=sid)

CHROOT_CACHE="${CONVOY_CHROOT_DIR:-$REPO_ROOT/.cache/chroots}"
readonly CHROOT_CACHE

# Bump when the way a chroot is set up changes (not its package list, which
# the stamp holds itself): every cached chroot is then rebuilt.
readonly CHROOT_LAYOUT=1

# What builds the extension and runs the regress and tap suites inside. unit
# and storage do not depend on PostgreSQL and run on the host only.
chroot_packages() {
	local major="$1"
	printf '%s\n' \
		"postgresql-$major" "postgresql-server-dev-$major" \
		g++ make \
		libcurl4-openssl-dev zlib1g-dev libdeflate-dev libjansson-dev libssl-dev \
		perl libipc-run-perl \
		passwd \
		nodejs \
		prometheus-postgres-exporter \
		ca-certificates
	# passwd: useradd for PG_OS_USER. nodejs: TAP 005 runs the emulators and
	# SDKs of test/e2e/storage (pure JavaScript, copied from the host's
	# npm ci). prometheus-postgres-exporter: TAP 014.
}

chroot_dir() {
	printf '%s/pg%s\n' "$CHROOT_CACHE" "$1"
}

is_chroot_major() {
	local major
	for major in "${CHROOT_PG_MAJORS[@]}"; do
		[[ "$major" == "$1" ]] && return 0
	done
	return 1
}

# What a chroot of this major must have been built from.
chroot_stamp() {
	local major="$1"
	printf 'suite %s (debootstrap script %s)\nlayout %s\npackages %s\n' \
		"${CHROOT_SUITE[$major]}" "${CHROOT_DEBOOTSTRAP_SCRIPT[$major]}" "$CHROOT_LAYOUT" \
		"$(chroot_packages "$major" | tr '\n' ' ')"
}

# The Debian mirror of the host's own suite in its apt sources (deb822
# .sources files and one-line .list files), e.g. http://deb.debian.org/debian.
host_debian_mirror() {
	local codename file
	if [[ -n "${CONVOY_DEBIAN_MIRROR:-}" ]]; then
		printf '%s\n' "$CONVOY_DEBIAN_MIRROR"
		return 0
	fi
	# shellcheck disable=SC1091 # the host's own file
	codename="$(. /etc/os-release && printf '%s' "${VERSION_CODENAME:-}")"
	[[ -n "$codename" ]] || die "cannot tell the host's Debian suite from /etc/os-release"
	for file in /etc/apt/sources.list.d/*.sources; do
		[[ -f "$file" ]] || continue
		# One paragraph per source: the first URI of a paragraph listing the
		# host's suite itself (not -updates or -security).
		awk -v suite="$codename" '
			function check() {
				if (deb && listed && uri != "") { print uri; done = 1; exit }
				deb = 0; listed = 0; uri = ""
			}
			/^[[:space:]]*$/ { check(); next }
			/^[[:space:]]*#/ { next }
			tolower($1) == "types:" { for (i = 2; i <= NF; i++) if ($i == "deb") deb = 1 }
			tolower($1) == "uris:" { uri = $2 }
			tolower($1) == "suites:" { for (i = 2; i <= NF; i++) if ($i == suite) listed = 1 }
			END { if (!done) check() }
		' "$file"
	done | sed -n 1p | grep . && return 0
	for file in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[[ -f "$file" ]] || continue
		# deb [options] URI suite components
		awk -v suite="$codename" '
			$1 == "deb" { i = 2; if ($i ~ /^\[/) { while ($i !~ /\]$/) i++; i++ }
			              if ($(i + 1) == suite) { print $i; exit } }
		' "$file"
	done | sed -n 1p | grep . && return 0
	die "no Debian mirror for suite $codename in the host's apt sources (set CONVOY_DEBIAN_MIRROR)"
}

chroot_is_ready() {
	local major="$1" dir
	dir="$(chroot_dir "$major")"
	[[ -f "$dir/.ready" && -f "$dir/.convoy-stamp" &&
		"$(cat -- "$dir/.convoy-stamp")" == "$(chroot_stamp "$major")" ]]
}

# Make sure the chroot of this major exists and is current, building it when
# it is missing, incomplete or built from another package list, then hold a
# shared lock on it until the calling script exits. Returns non-zero (after
# saying why) if it cannot; it checks every step itself rather than rely on
# errexit, so that callers may test it in an `if`.
ensure_chroot() {
	local major="$1" dir lock_fd
	is_chroot_major "$major" || die "no chroot for PostgreSQL $major (chroots: ${CHROOT_PG_MAJORS[*]})"
	dir="$(chroot_dir "$major")"
	mkdir -p -- "$CHROOT_CACHE" || return 1
	exec {lock_fd}>>"$CHROOT_CACHE/pg$major.lock" || return 1
	if ! chroot_is_ready "$major"; then
		log "chroot pg$major: not ready; waiting until no other run uses $dir"
		flock -x "$lock_fd" || return 1
		# Another run may have built it while this one waited.
		if ! chroot_is_ready "$major" && ! build_chroot "$major"; then
			warn "chroot pg$major: could not be built (what is left of it: $dir.new)"
			flock -u "$lock_fd"
			return 1
		fi
	fi
	flock -s "$lock_fd" || return 1
	if ! chroot_is_ready "$major"; then
		warn "chroot pg$major: changed while this run waited for it; run again"
		return 1
	fi
	log "chroot pg$major: $dir ($(chroot_exec_plain "$dir" "/usr/lib/postgresql/$major/bin/postgres" --version))"
}

# debootstrap into a fresh folder, set it up, then move it into place. Called
# with the exclusive lock held.
build_chroot() {
	local major="$1" dir new mirror start=$SECONDS packages=() suite
	dir="$(chroot_dir "$major")"
	new="$dir.new"
	suite="${CHROOT_SUITE[$major]}"
	mirror="$(host_debian_mirror)" || return 1
	mapfile -t packages < <(chroot_packages "$major")
	[[ -x /usr/sbin/debootstrap ]] || apt_install debootstrap || return 1
	remove_chroot_dir "$new" || return 1
	remove_chroot_dir "$dir" || return 1
	log "chroot pg$major: debootstrap $suite from $mirror into $new"
	# minbase first, packages second: the packages' maintainer scripts then run
	# with services disabled and no cluster created (see chroot_configure).
	# debootstrap mounts /proc and more in the target: in a private mount
	# namespace, so that they go with it, even if debootstrap is interrupted.
	if ! unshare --mount --propagation private -- debootstrap --variant=minbase "$suite" "$new" "$mirror" \
		"/usr/share/debootstrap/scripts/${CHROOT_DEBOOTSTRAP_SCRIPT[$major]}"; then
		warn "debootstrap of $suite failed (see $new/debootstrap/debootstrap.log)"
		return 1
	fi
	chroot_configure "$new" || return 1
	log "chroot pg$major: installing ${packages[*]}"
	chroot_exec_plain "$new" env DEBIAN_FRONTEND=noninteractive apt-get -q update || return 1
	chroot_exec_plain "$new" env DEBIAN_FRONTEND=noninteractive apt-get -q install -y \
		--no-install-recommends -o Dpkg::Use-Pty=0 "${packages[@]}" </dev/null || return 1
	chroot_exec_plain "$new" apt-get clean || return 1
	chroot_exec_plain "$new" useradd --system --user-group --create-home \
		--shell /usr/sbin/nologin "$PG_OS_USER" || return 1
	chroot_stamp "$major" >"$new/.convoy-stamp" || return 1
	mv -T -- "$new" "$dir" || return 1
	touch -- "$dir/.ready" || return 1
	log "chroot pg$major: ready in $((SECONDS - start))s ($(du -sh -- "$dir" | cut -f1))"
}

# Settings of a fresh chroot before any package is installed: no service
# starts, Debian's postgresql-common creates no "main" cluster, the host's
# resolver is used, and apt accepts the mirror's Release files as they are.
chroot_configure() {
	local root="$1"
	printf '#!/bin/sh\n# No service starts inside a convoy_backup test chroot.\nexit 101\n' \
		>"$root/usr/sbin/policy-rc.d" &&
		chmod 0755 "$root/usr/sbin/policy-rc.d" &&
		mkdir -p -- "$root/etc/postgresql-common/createcluster.d" &&
		printf 'create_main_cluster = false\n' \
			>"$root/etc/postgresql-common/createcluster.d/convoy.conf" &&
		cp -L -- /etc/resolv.conf "$root/etc/resolv.conf" &&
		# The host's mirror may serve a dated snapshot of the archive; a testing
		# suite's Release file is valid for a week only, and apt would then
		# refuse it (debootstrap does not check). Signatures are still checked.
		printf 'Acquire::Check-Valid-Until "false";\n' \
			>"$root/etc/apt/apt.conf.d/99convoy-snapshot"
}

# rm -rf a chroot folder, refusing if anything is mounted below it (nothing
# of these scripts mounts there outside a private namespace; someone else may).
remove_chroot_dir() {
	local dir="$1"
	[[ -e "$dir" ]] || return 0
	if awk -v d="$dir/" 'index($5 "/", d) == 1 { found = 1 } END { exit !found }' /proc/self/mountinfo; then
		warn "something is mounted below $dir; unmount it first (grep '$dir' /proc/self/mountinfo)"
		return 1
	fi
	rm -rf --one-file-system -- "$dir"
}

# The environment of every command inside: nothing of the caller's but what is
# named here.
chroot_env() {
	printf '%s\n' PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		HOME=/root LANG=C.UTF-8 LC_ALL=C.UTF-8 "TERM=${TERM:-dumb}"
	local name
	for name in CI MAKE_JOBS PROVE_TESTS PROVE_FLAGS TAP_JOBS DEMO_WAIT_SECONDS; do
		[[ -n "${!name:-}" ]] && printf '%s=%s\n' "$name" "${!name}"
	done
	return 0
}

# The mount namespace part of chroot_exec: mounts, chroot, unmounts. $1 is the
# root to mount on (an overlay when $2 is a run folder, else the chroot itself).
# shellcheck disable=SC2016 # expanded by the inner shell
readonly CHROOT_NS_SCRIPT='
set -eu
lower="$1" run="$2"
shift 2
if [ -n "$run" ]; then
	root="$run/root"
	mkdir -p "$run/upper" "$run/work" "$root"
	mount -t overlay overlay -o "lowerdir=$lower,upperdir=$run/upper,workdir=$run/work" "$root"
else
	root="$lower"
fi
unmount_all() {
	# Best effort: a server left running (scripts/demo --keep) keeps them busy;
	# they then go with the namespace when it stops.
	umount "$root/dev/shm" 2>/dev/null || true
	umount "$root/proc" 2>/dev/null || true
	if [ -n "$run" ]; then umount "$root" 2>/dev/null || true; fi
}
trap unmount_all EXIT
mount --bind /proc "$root/proc"
mount --bind /dev/shm "$root/dev/shm"
rc=0
chroot "$root" "$@" || rc=$?
exit "$rc"
'

# Run a command as root inside the chroot itself (only while building it).
chroot_exec_plain() {
	local root="$1"
	shift
	local -a envs
	mapfile -t envs < <(chroot_env)
	unshare --mount --propagation private -- /bin/sh -c "$CHROOT_NS_SCRIPT" chroot-exec \
		"$root" "" /usr/bin/env -i "${envs[@]}" "$@"
}

# Run a command as root in an overlay of the chroot of MAJOR whose changes go
# to RUN (a folder of the caller, created if missing; the chroot's files
# appear under RUN/upper only once changed). Extra environment: CHROOT_ENV
# entries (NAME=value) on top of chroot_env.
chroot_exec() {
	local major="$1" run="$2"
	shift 2
	local -a envs
	mapfile -t envs < <(chroot_env)
	envs+=("${CHROOT_EXTRA_ENV[@]}")
	mkdir -p -- "$run"
	unshare --mount --propagation private -- /bin/sh -c "$CHROOT_NS_SCRIPT" chroot-exec \
		"$(chroot_dir "$major")" "$run" /usr/bin/env -i "${envs[@]}" "$@"
}
CHROOT_EXTRA_ENV=()

# Where the chroot's view of PATH_INSIDE is kept in a run folder once written.
run_upper_path() {
	printf '%s/upper%s\n' "$1" "$2"
}
