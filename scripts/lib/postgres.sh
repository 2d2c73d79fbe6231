# shellcheck shell=bash
# The unprivileged PostgreSQL OS user and throwaway clusters. Requires lib/common.sh.

ensure_pg_user() {
	if id -u "$PG_OS_USER" >/dev/null 2>&1; then
		return 0
	fi
	log "creating system user $PG_OS_USER"
	useradd --system --user-group --create-home --shell /usr/sbin/nologin \
		--comment "convoy_backup test and demo clusters" "$PG_OS_USER"
}

# Run a command as PG_OS_USER from a directory it can enter (/ by default; pass
# a directory with AS_PG_CWD). runuser keeps the caller's environment apart from
# HOME, USER and friends; TMPDIR is reset because root's may not be writable.
as_pg_user() {
	(cd "${AS_PG_CWD:-/}" && runuser -u "$PG_OS_USER" -- env TMPDIR=/tmp "$@")
}

# initdb a cluster owned by PG_OS_USER in DATADIR (must not exist yet; its
# parent must be writable by PG_OS_USER). Local connections only, trusted:
# callers keep the socket directory private (mode 0700, owned by PG_OS_USER).
init_cluster() {
	local datadir="$1"
	as_pg_user "$PG_BINDIR/initdb" --pgdata="$datadir" --username=postgres \
		--encoding=UTF8 --no-locale --auth-local=trust --auth-host=reject \
		--no-instructions >/dev/null
}

# Append settings to the cluster's postgresql.conf: the lines every
# configuration needs, then the caller's lines (one setting per argument).
append_server_conf() {
	local datadir="$1"
	shift
	{
		printf '\n# Added by scripts/%s\n' "$LOG_PREFIX"
		printf "output_plugin_libraries = '%s'\n" "$OUTPUT_PLUGIN_LIBRARIES"
		printf '%s\n' "$@"
	} >>"$datadir/postgresql.conf"
}

cluster_is_running() {
	local datadir="$1"
	[[ -f "$datadir/postmaster.pid" ]] &&
		as_pg_user "$PG_BINDIR/pg_ctl" --pgdata="$datadir" status >/dev/null 2>&1
}

start_cluster() {
	local datadir="$1" logfile="$2"
	as_pg_user "$PG_BINDIR/pg_ctl" --pgdata="$datadir" --log="$logfile" \
		--wait --timeout=60 start >/dev/null
}

stop_cluster() {
	local datadir="$1"
	if cluster_is_running "$datadir"; then
		as_pg_user "$PG_BINDIR/pg_ctl" --pgdata="$datadir" --mode=fast \
			--wait --timeout=60 stop >/dev/null
	fi
}
