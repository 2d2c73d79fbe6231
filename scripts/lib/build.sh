# shellcheck shell=bash
# Building and installing the extension. Requires lib/common.sh.

build_jobs() {
	printf '%s\n' "${MAKE_JOBS:-$(nproc)}"
}

# PGXS build of convoy_backup.so in the repository.
build_extension() {
	log "building the extension (make -j$(build_jobs))"
	make -C "$REPO_ROOT" -j"$(build_jobs)" PG_CONFIG="$PG_CONFIG"
}

# Install the library, control and SQL files into PostgreSQL's system directories.
install_extension() {
	log "installing the extension into $("$PG_CONFIG" --pkglibdir)"
	make -C "$REPO_ROOT" install PG_CONFIG="$PG_CONFIG"
}
