# shellcheck shell=bash
# Node.js and the npm packages of test/e2e/storage: the S3 and Azure emulators
# and the official SDKs that the storage suite and TAP test 005 use, and DuckDB
# for TAP test 018. Requires lib/common.sh and lib/packages.sh.
#
# The packages are installed exactly as package-lock.json pins them (npm ci),
# from the npm registry only, into test/e2e/storage/node_modules (git-ignored).
# None of them needs an install script, so none is run (--ignore-scripts):
# DuckDB's native library comes in a package per platform
# (@duckdb/node-bindings-linux-x64 here), an optional dependency that npm
# installs for the machine it runs on.

readonly STORAGE_E2E_DIR="$REPO_ROOT/test/e2e/storage"
readonly STORAGE_E2E_MODULES="$STORAGE_E2E_DIR/node_modules"
# Written into node_modules after a successful npm ci: what it was installed
# from. Any difference means node_modules is outdated.
readonly STORAGE_E2E_STAMP="$STORAGE_E2E_MODULES/.convoy-npm-ci"
# Debian packages for node, installed only when no node is on PATH: a node
# that is already there (e.g. from NodeSource) is used as it is.
readonly NODE_PACKAGES=(nodejs npm)

# Install node and npm from Debian when there is no node at all.
ensure_node() {
	if ! command -v node >/dev/null 2>&1; then
		log "node: not found; installing ${NODE_PACKAGES[*]}"
		apt_install "${NODE_PACKAGES[@]}"
		command -v node >/dev/null 2>&1 || die "node is still missing after installing ${NODE_PACKAGES[*]}"
	fi
	if ! command -v npm >/dev/null 2>&1; then
		die "node is installed ($(command -v node)) but npm is not; install npm with the same node distribution"
	fi
	log "node: $(node --version) at $(command -v node), npm $(npm --version)"
}

# What node_modules must have been installed from: the manifest, the lockfile
# and the node version.
storage_e2e_fingerprint() {
	(cd "$STORAGE_E2E_DIR" && sha256sum package.json package-lock.json)
	printf 'node %s\n' "$(node --version)"
}

# npm ci into test/e2e/storage when node_modules is missing or outdated.
ensure_storage_e2e_modules() {
	local want
	want="$(storage_e2e_fingerprint)"
	if [[ -f "$STORAGE_E2E_STAMP" && "$(cat -- "$STORAGE_E2E_STAMP")" == "$want" ]]; then
		log "npm packages: $STORAGE_E2E_MODULES is up to date"
		return 0
	fi
	if [[ -d "$STORAGE_E2E_MODULES" ]]; then
		log "npm packages: $STORAGE_E2E_MODULES is outdated; reinstalling (npm ci)"
	else
		log "npm packages: installing into $STORAGE_E2E_MODULES (npm ci)"
	fi
	# npm ci removes node_modules first, the stamp with it.
	npm ci --prefix "$STORAGE_E2E_DIR" --ignore-scripts --no-audit --no-fund \
		--loglevel=error </dev/null
	printf '%s\n' "$want" >"$STORAGE_E2E_STAMP"
}
