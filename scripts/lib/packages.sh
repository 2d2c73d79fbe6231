# shellcheck shell=bash
# System dependencies. Requires lib/common.sh.
#
# Each dependency source gets one ensure_* function that is a no-op when
# everything is present, so scripts can call them unconditionally. A later
# source (e.g. npm packages for test/e2e/storage, installed into a git-ignored
# folder) belongs in its own lib file with its own ensure_* function (see
# lib/node.sh).

# Debian 12 packages needed to build the extension and run every test suite.
readonly SYSTEM_PACKAGES=(
	build-essential g++ make cmake pkg-config
	"postgresql-${HOST_PG_MAJOR}" "postgresql-server-dev-${HOST_PG_MAJOR}" postgresql-contrib
	libcurl4-openssl-dev zlib1g-dev libdeflate-dev libjansson-dev libssl-dev
	libgtest-dev googletest
	perl libipc-run-perl
	# TAP 014 scrapes contrib/prometheus through the real exporter.
	prometheus-postgres-exporter
	# Storage tests: openssl makes a throwaway TLS certificate
	# (test/e2e/storage/run-core-e2e.sh); npm reaches its registry over HTTPS.
	openssl ca-certificates
	# The chroots of the other PostgreSQL majors (lib/chroot.sh).
	debootstrap
)

# Print the packages from the arguments that dpkg does not report as installed.
missing_packages() {
	local pkg status
	for pkg in "$@"; do
		status="$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)"
		if [[ "$status" != "install ok installed" ]]; then
			printf '%s\n' "$pkg"
		fi
	done
}

APT_UPDATED=0

# apt-get install the packages named in the arguments (apt-get update first,
# once per run), then check that dpkg reports every one of them as installed.
apt_install() {
	local missing=()
	export DEBIAN_FRONTEND=noninteractive
	if [[ $APT_UPDATED -eq 0 ]]; then
		apt-get -q update
		APT_UPDATED=1
	fi
	apt-get -q install -y --no-install-recommends -o Dpkg::Use-Pty=0 "$@" </dev/null
	mapfile -t missing < <(missing_packages "$@")
	if [[ ${#missing[@]} -ne 0 ]]; then
		die "still missing after apt-get install: ${missing[*]}"
	fi
}

# Install whatever is missing from SYSTEM_PACKAGES.
ensure_system_packages() {
	local missing=()
	mapfile -t missing < <(missing_packages "${SYSTEM_PACKAGES[@]}")
	if [[ ${#missing[@]} -eq 0 ]]; then
		log "system packages: all ${#SYSTEM_PACKAGES[@]} already installed"
		return 0
	fi
	log "system packages: installing ${missing[*]}"
	apt_install "${missing[@]}"
}
