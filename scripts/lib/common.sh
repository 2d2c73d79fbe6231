# shellcheck shell=bash
# shellcheck disable=SC2034 # constants used by the scripts that source this file
# Shared helpers for scripts/demo and scripts/test: logging, paths, root check.
# Source it after setting LOG_PREFIX (e.g. "demo"); it sets no shell options itself.

# Repository root: scripts/lib/common.sh -> ../..
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
readonly REPO_ROOT

# The PostgreSQL majors the extension is tested with: the host's own (Debian 12
# packages only 15) and those of the chroots of lib/chroot.sh.
readonly HOST_PG_MAJOR=15
readonly TESTED_PG_MAJORS=(15 17 18)

# The major this run builds against, and where Debian puts it. On the host it
# is HOST_PG_MAJOR; scripts/test and scripts/demo run themselves again inside a
# chroot for another major, with CONVOY_INSIDE_CHROOT set to it (internal).
# CONVOY_PG_BINDIR points the scripts at another (relocated) copy of the host's
# installation, so that two working trees can build, install and test at once
# without overwriting each other's library.
readonly INSIDE_CHROOT="${CONVOY_INSIDE_CHROOT:-}"
if [[ -n "$INSIDE_CHROOT" ]]; then
	readonly PG_MAJOR="$INSIDE_CHROOT"
	readonly PG_BINDIR="/usr/lib/postgresql/${PG_MAJOR}/bin"
else
	readonly PG_MAJOR="$HOST_PG_MAJOR"
	readonly PG_BINDIR="${CONVOY_PG_BINDIR:-/usr/lib/postgresql/${PG_MAJOR}/bin}"
fi
readonly PG_CONFIG="${PG_BINDIR}/pg_config"

# Unprivileged OS user that owns every PostgreSQL instance the scripts start
# (initdb refuses to run as root).
readonly PG_OS_USER=convoy_pg

# Output plugins the server may load (GUC added in PostgreSQL 15.19). Every
# configuration the scripts write must list convoy_backup here.
readonly OUTPUT_PLUGIN_LIBRARIES='pgoutput, test_decoding, convoy_backup'

# Same locale everywhere, whatever the caller's environment: initdb (pg_regress
# temp instance, TAP nodes, demo) then creates UTF8 databases. C.UTF-8 ships
# with Debian's libc, so it needs no locales package.
export LC_ALL=C.UTF-8
export LANG=C.UTF-8

: "${LOG_PREFIX:=scripts}"

log() {
	printf '%s: %s\n' "$LOG_PREFIX" "$*"
}

warn() {
	printf '%s: warning: %s\n' "$LOG_PREFIX" "$*" >&2
}

die() {
	printf '%s: error: %s\n' "$LOG_PREFIX" "$*" >&2
	exit 1
}

# A visible step header.
step() {
	printf '\n%s: === %s ===\n' "$LOG_PREFIX" "$*"
}

require_root() {
	if [[ "$(id -u)" -ne 0 ]]; then
		die "must run as root (it installs packages with apt-get and the extension into the system directories)"
	fi
}

# Print the last lines of a file under a header, if it exists and is not empty.
show_tail() {
	local file="$1" lines="${2:-60}"
	if [[ -s "$file" ]]; then
		printf '%s: --- last %s lines of %s ---\n' "$LOG_PREFIX" "$lines" "$file"
		tail -n "$lines" -- "$file"
		printf '%s: --- end of %s ---\n' "$LOG_PREFIX" "$file"
	fi
}
