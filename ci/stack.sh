#!/usr/bin/env bash
# ci/stack.sh — the project's real Docker test stack, on 127.0.0.1 only.
#
# Pieces: a plain-HTTP registry (Debian docker-registry), three
# dockerds standing in for Windows nodes "1809", "ltsc2022" and "ltsc2025", and a local dockerd
# with buildx, all with the containerd image store; dockerd/containerd/buildx come from trixie,
# unpacked into a private prefix (never installed over the system). Each node is reached over
# mutual TLS through a Windows-persona front (ci/front.py; docs/personas.md) that answers as a
# Windows engine and forwards the work to the stand-in's unix socket.
#
#   ci/stack.sh install                     packages (idempotent)
#   ci/stack.sh up                          start everything, seed fixtures, write $STACK_HOME/env
#   ci/stack.sh down                        stop everything by pid (also after a half-done up)
#   ci/stack.sh status                      what is alive
#   ci/stack.sh stop-registry|start-registry|restart-registry
#   ci/stack.sh stop-node OS|start-node OS  OS is 1809, ltsc2022 or ltsc2025; same port,
#                                           storage and persona (its front stops and starts too)
#
# Variables: STACK_HOME (default <repo>/target/stack), STACK_PREFIX (default
# $STACK_HOME/prefix), STACK_TIMEOUT (seconds per ready check, default 60),
# STACK_TLS_CMD (the command that writes the certs, run from the repository root; default
# "cargo xtask tls", so the e2e nodes run on certs made by the tool; "openssl" for openssl),
# STACK_KEEP_ON_FAILURE=1 (leave a failed `up` running for debugging).
# Personas (docs/personas.md): STACK_PERSONA_1809 (default ws2019-docker20.10),
# STACK_PERSONA_LTSC2022 (default ws2022-docker26), STACK_PERSONA_LTSC2025 (default
# ws2025-docker27): the engine each node answers as (`python3 ci/front.py personas` lists them;
# `linux` answers as the stand-in itself, still through the front; `none`: no front, the dockerd
# listens on the TLS port itself, as before personas). STACK_EXTRA_PERSONAS (default: every
# persona): more fronts over node ltsc2025's stand-in, one port each, named in the env file as
# PERSONA_URL_<persona> (non-alphanumerics as _). Every front records the requests it saw in
# $STACK_HOME/personas/<front>.jsonl; $STACK_HOME/personas/fronts.json lists the fronts.
#
# $STACK_HOME/env holds everything the main job needs on this stack, so
# `. target/stack/env; make all-push-as-linux` runs it: REGISTRY, REMOTE_DOCKER_URL (node 1809),
# DOCKER_CERT_PATH, DOCKER_HOST/DOCKER_CONFIG/PATH (the local daemon with buildx), IMAGES_DIR (the
# fixture images, whose bases are in this registry) and DOCKER_DEFAULT_PLATFORM=windows/amd64
# (the Linux stand-in nodes then write Windows-layout images; the cache build names its own
# --platform). The tests read the same file.
set -euo pipefail

CI_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$CI_DIR/.." && pwd)
STACK_HOME=${STACK_HOME:-$REPO_ROOT/target/stack}
mkdir -p "$STACK_HOME"
STACK_HOME=$(cd "$STACK_HOME" && pwd)
STACK_PREFIX=${STACK_PREFIX:-$STACK_HOME/prefix}
STACK_TIMEOUT=${STACK_TIMEOUT:-60}
STOP_TIMEOUT=${STOP_TIMEOUT:-20}

NODES=(1809 ltsc2022 ltsc2025)
declare -A NODE_BUILD=([1809]=10.0.17763.6532 [ltsc2022]=10.0.20348.2849 [ltsc2025]=10.0.26100.2894)

ENV_FILE=$STACK_HOME/env
PIDS_FILE=$STACK_HOME/pids
LOG_DIR=$STACK_HOME/logs
CERT_DIR=$STACK_HOME/certs
DAEMON_DIR=$STACK_HOME/daemons
REGISTRY_DIR=$STACK_HOME/registry
APT_DIR=$STACK_HOME/apt
STACK_DOCKER_CONFIG=$STACK_HOME/docker-config
REGISTRY_PY=$CI_DIR/registry.py
TRIXIE_PKGS=(docker.io containerd docker-buildx)

log() { printf 'stack: %s\n' "$*" >&2; }
die() {
	log "error: $*"
	exit 1
}
now_ms() { date +%s%3N; }
since() { # since START_MS -> "12.3s"
	local ms=$(($(now_ms) - $1))
	printf '%d.%ds' $((ms / 1000)) $((ms % 1000 / 100))
}
# Single-quote a value for a sourceable `export K='V'` line.
shquote() { printf "'%s'" "${1//\'/\'\\\'\'}"; }

# ---------------------------------------------------------------- install

pkg_installed() {
	local status
	# shellcheck disable=SC2016 # ${Status} is dpkg-query's format, not ours
	status=$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null) || return 1
	[ "$status" = "install ok installed" ]
}

install_system_packages() {
	local missing=() pkg need_update=0
	for pkg in docker-registry runc; do
		pkg_installed "$pkg" || missing+=("$pkg")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	for pkg in "${missing[@]}"; do
		# (captured, not piped into grep -q: with pipefail an early grep exit fails the pipe)
		case "$(apt-cache policy "$pkg" 2>/dev/null)" in
		*"Candidate: (none)"* | "") need_update=1 ;;
		esac
	done
	if [ "$need_update" = 1 ]; then
		log "apt-get update"
		apt-get update -q >&2
	fi
	log "apt-get install ${missing[*]}"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
	# The package's init script starts a registry on :5000 (all interfaces) unless a
	# policy-rc.d forbids it; we only want our own, on loopback.
	if [ ! -x /usr/sbin/policy-rc.d ] && [ -x /etc/init.d/docker-registry ]; then
		/etc/init.d/docker-registry stop >&2 || true
	fi
}

# The system's Debian mirror and keyring, for suite trixie, in deb822 form.
trixie_sources() {
	local src=/etc/apt/sources.list.d/debian.sources uris="" signed=""
	if [ -r "$src" ]; then
		# First stanza whose URIs are not the security archive.
		uris=$(awk 'BEGIN{RS=""; FS="\n"} {u=""; for(i=1;i<=NF;i++) if ($i ~ /^URIs:/) u=$i;
			if (u != "" && u !~ /security/) { sub(/^URIs:[ \t]*/, "", u); print u; exit }}' "$src")
		signed=$(awk -v want="$uris" 'BEGIN{RS=""; FS="\n"} {u=""; s="";
			for(i=1;i<=NF;i++) { if ($i ~ /^URIs:/) u=$i; if ($i ~ /^Signed-By:/) s=$i }
			sub(/^URIs:[ \t]*/, "", u); sub(/^Signed-By:[ \t]*/, "", s);
			if (u == want) { print s; exit }}' "$src")
	fi
	uris=${uris:-http://deb.debian.org/debian}
	signed=${signed:-/usr/share/keyrings/debian-archive-keyring.gpg}
	printf 'Types: deb\nURIs: %s\nSuites: trixie\nComponents: main\nSigned-By: %s\n' "$uris" "$signed"
}

fetch_trixie() {
	local debs=$APT_DIR/debs pkg missing=()
	local pkgs=("${TRIXIE_PKGS[@]}")
	command -v docker >/dev/null || pkgs+=(docker-cli)
	mkdir -p "$debs"
	for pkg in "${pkgs[@]}"; do
		compgen -G "$debs/${pkg}_*.deb" >/dev/null || missing+=("$pkg")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	mkdir -p "$APT_DIR/etc" "$APT_DIR/lists/partial" "$APT_DIR/cache/archives/partial"
	trixie_sources >"$APT_DIR/etc/trixie.sources"
	# Private lists, sources and cache: the system's apt state is left alone.
	local opts=(-o "Dir::State::Lists=$APT_DIR/lists" -o "Dir::Etc::SourceList=/dev/null"
		-o "Dir::Etc::SourceParts=$APT_DIR/etc" -o "Dir::Cache=$APT_DIR/cache")
	log "apt-get update (trixie, private state in $APT_DIR)"
	apt-get -q "${opts[@]}" update >"$APT_DIR/update.log" 2>&1 ||
		{ tail -20 "$APT_DIR/update.log" >&2; die "trixie apt-get update failed"; }
	log "apt-get download ${missing[*]}"
	(cd "$debs" && apt-get -q "${opts[@]}" download "${missing[@]}") >"$APT_DIR/download.log" 2>&1 ||
		{ tail -20 "$APT_DIR/download.log" >&2; die "trixie apt-get download failed"; }
}

unpack_prefix() {
	local deb stamp
	mkdir -p "$STACK_PREFIX/.unpacked"
	for deb in "$APT_DIR"/debs/*.deb; do
		stamp=$STACK_PREFIX/.unpacked/$(basename "$deb")
		[ -e "$stamp" ] && continue
		log "dpkg -x $(basename "$deb")"
		dpkg -x "$deb" "$STACK_PREFIX"
		touch "$stamp"
	done
}

installed() {
	[ -x "$STACK_PREFIX/usr/sbin/dockerd" ] && [ -x "$STACK_PREFIX/usr/bin/containerd" ] &&
		[ -x "$STACK_PREFIX/usr/bin/containerd-shim-runc-v2" ] &&
		[ -x "$STACK_PREFIX/usr/libexec/docker/cli-plugins/docker-buildx" ] &&
		command -v docker-registry >/dev/null && command -v runc >/dev/null &&
		PATH=$STACK_PREFIX/usr/bin:$PATH command -v docker >/dev/null
}

cmd_install() {
	local t0
	t0=$(now_ms)
	install_system_packages
	fetch_trixie
	unpack_prefix
	installed || die "install incomplete: see $STACK_PREFIX and $APT_DIR"
	log "dockerd $("$STACK_PREFIX/usr/sbin/dockerd" --version | awk '{print $3}' | tr -d ,)," \
		"containerd $("$STACK_PREFIX/usr/bin/containerd" --version | awk '{print $3}')," \
		"docker CLI $(PATH=$STACK_PREFIX/usr/bin:$PATH docker --version | awk '{print $3}' | tr -d ,)"
	log "install done in $(since "$t0")"
}

# ---------------------------------------------------------------- processes

# A pid is ours when it is alive (not a zombie) and its command line names STACK_HOME.
ours() {
	local pid=$1 stat cmdline
	[ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 1
	stat=$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null) || return 1
	[ "$stat" != Z ] || return 1
	cmdline=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
	[[ "$cmdline" == *"$STACK_HOME/"* ]]
}

# Every descendant of PID (dockerd starts containerd in a session of its own, so the
# process tree, not the session, is what finds it).
descendant_pids() {
	ps -eo pid=,ppid= | awk -v root="$1" '{ parent[$1] = $2 }
		END { for (p in parent) { q = parent[p]; while (q > 1) { if (q == root) { print p; break } q = parent[q] } } }'
}

wait_gone() { # wait_gone SECONDS PID... -> 0 when all gone
	local deadline=$(($(now_ms) + $1 * 1000)) pid alive
	shift
	while :; do
		alive=0
		for pid in "$@"; do ours "$pid" && alive=1; done
		[ "$alive" = 0 ] && return 0
		[ "$(now_ms)" -ge "$deadline" ] && return 1
		sleep 0.1
	done
}

# stop_pids NAME PID [NAME PID]...: TERM all at once, bounded wait, KILL what is left; then
# whatever they had started (dockerd's containerd), the same way.
stop_pids() {
	local names=() pids=() kids=() p i
	while [ $# -ge 2 ]; do
		if ours "$2"; then
			names+=("$1")
			pids+=("$2")
			mapfile -t -O "${#kids[@]}" kids < <(descendant_pids "$2")
		fi
		shift 2
	done
	[ ${#pids[@]} -eq 0 ] && return 0
	for i in "${!pids[@]}"; do
		log "stopping ${names[$i]} (pid ${pids[$i]})"
		kill -TERM "${pids[$i]}" 2>/dev/null || true
	done
	if ! wait_gone "$STOP_TIMEOUT" "${pids[@]}"; then
		for i in "${!pids[@]}"; do
			ours "${pids[$i]}" || continue
			log "${names[$i]} did not stop in ${STOP_TIMEOUT}s: KILL"
			kill -KILL "${pids[$i]}" 2>/dev/null || true
		done
		wait_gone 5 "${pids[@]}" || log "warning: still there: ${pids[*]}"
	fi
	for p in "${kids[@]}"; do
		ours "$p" || continue
		log "stopping leftover pid $p ($(cat "/proc/$p/comm" 2>/dev/null))"
		kill -TERM "$p" 2>/dev/null || true
		wait_gone 10 "$p" || kill -KILL "$p" 2>/dev/null || true
	done
}
stop_pid() { stop_pids "$@"; }

# Run in the subshell that becomes a daemon: close every descriptor but 0-2. A daemon must
# not inherit its starter's: under `flock /work/stack.lock ci/stack.sh …` it would keep the
# lock (flock(2) locks belong to the open file) held for as long as it lives.
close_inherited_fds() {
	local fd
	for fd in /proc/"$BASHPID"/fd/*; do
		fd=${fd##*/}
		if [ "$fd" -gt 2 ]; then eval "exec $fd>&-"; fi
	done
}

tail_log() {
	[ -f "$1" ] || return 0
	log "last lines of $1:"
	tail -n 40 "$1" | sed 's/^/    /' >&2
}

wait_ready() { # wait_ready NAME PID LOG CMD...: poll CMD until it succeeds or STACK_TIMEOUT
	local name=$1 pid=$2 logf=$3 t0 deadline
	shift 3
	t0=$(now_ms)
	deadline=$((t0 + STACK_TIMEOUT * 1000))
	until "$@" >/dev/null 2>&1; do
		if ! ours "$pid"; then
			tail_log "$logf"
			die "$name (pid $pid) exited before it was ready"
		fi
		if [ "$(now_ms)" -ge "$deadline" ]; then
			tail_log "$logf"
			die "$name not ready after ${STACK_TIMEOUT}s: $*"
		fi
		sleep 0.2
	done
	log "$name ready in $(since "$t0") (pid $pid)"
}

free_ports() { # free_ports N: N distinct free TCP ports on 127.0.0.1
	python3 - "$1" <<'EOF'
import socket, sys
socks = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))
EOF
}

# ---------------------------------------------------------------- state

NODE_VARS=()
for _os in "${NODES[@]}"; do
	NODE_VARS+=("REMOTE_DOCKER_URL_$_os" "NODE_SOCK_$_os" "NODE_PID_$_os" "BASE_IMAGE_$_os" "NODE_OS_VERSION_$_os"
		"PERSONA_$_os" "FRONT_PID_$_os" "PERSONA_RECORD_$_os")
done
ENV_KEYS=(STACK_HOME STACK_PREFIX REGISTRY REGISTRY_HOST REGISTRY_PID REMOTE_DOCKER_URL
	"${NODE_VARS[@]}" DOCKER_CERT_PATH DOCKER_CERT_BASE_PATH DOCKER_HOST DOCKER_CONFIG
	LOCAL_PID FIXTURES_DIR STACK_LOG_DIR PATH IMAGES_DIR DOCKER_DEFAULT_PLATFORM PERSONA_DIR
	EXTRA_FRONTS AUTH_REGISTRY AUTH_REGISTRY_HOST AUTH_REGISTRY_PID AUTH_USER AUTH_PASSWORD)

write_pids() {
	local tmp=$PIDS_FILE.tmp os var
	: >"$tmp"
	[ -n "${REGISTRY_PID:-}" ] && echo "registry ${REGISTRY_PID}" >>"$tmp"
	[ -n "${AUTH_REGISTRY_PID:-}" ] && echo "auth-registry ${AUTH_REGISTRY_PID}" >>"$tmp"
	for os in "${NODES[@]}"; do
		var=NODE_PID_$os
		[ -n "${!var:-}" ] && echo "node-$os ${!var}" >>"$tmp"
		var=FRONT_PID_$os
		[ -n "${!var:-}" ] && echo "front-node-$os ${!var}" >>"$tmp"
	done
	write_extra_front_pids "$tmp"
	[ -n "${LOCAL_PID:-}" ] && echo "local ${LOCAL_PID}" >>"$tmp"
	mv -f "$tmp" "$PIDS_FILE"
}

# Matrix mode's node variables are written as plain shell variables, not exported: xtask warns
# about REMOTE_DOCKER_URL_<os> and DOCKER_CERT_BASE_PATH in compat mode ("set but not used"), and
# a newcomer's first command after `. env` is a compat run. `export OS_VERSIONS=… NAME…` turns
# them on (the file's last comment says how); the tests and ci/bench.py read them from the file.
MATRIX_ONLY_KEYS=(DOCKER_CERT_BASE_PATH)
for _os in "${NODES[@]}"; do
	MATRIX_ONLY_KEYS+=("REMOTE_DOCKER_URL_$_os")
done

write_env() {
	local tmp=$ENV_FILE.tmp key
	{
		echo "# written by ci/stack.sh up; source it: . $ENV_FILE"
		for key in "${ENV_KEYS[@]}" $(extra_front_keys); do
			if [[ " ${MATRIX_ONLY_KEYS[*]} " == *" $key "* ]]; then
				printf '%s=%s\n' "$key" "$(shquote "${!key:-}")"
			else
				printf 'export %s=%s\n' "$key" "$(shquote "${!key:-}")"
			fi
		done
		# REMOTE_DOCKER_URL is node 1809's already: exporting REMOTE_DOCKER_URL_1809 too would
		# leave it unused ("every release has its own node").
		local others=()
		for _os in "${NODES[@]:1}"; do others+=("REMOTE_DOCKER_URL_$_os"); done
		echo "# matrix mode on this stack (every stand-in node): export OS_VERSIONS='${NODES[*]}' DOCKER_CERT_BASE_PATH ${others[*]}"
	} >"$tmp"
	mv -f "$tmp" "$ENV_FILE"
	write_pids
}

load_env() {
	[ -f "$ENV_FILE" ] || die "no $ENV_FILE: run ci/stack.sh up first"
	# shellcheck disable=SC1090 # written by write_env
	. "$ENV_FILE"
}

# ---------------------------------------------------------------- pieces

# The certs are kept across `up`s, and remade when STACK_TLS_CMD names another maker than
# the one that made them (recorded in certs/.made-by).
make_certs() {
	local maker=${STACK_TLS_CMD:-cargo xtask tls} stamp=$CERT_DIR/.made-by
	if [ -f "$CERT_DIR/node/server-cert.pem" ] && [ -f "$CERT_DIR/client/cert.pem" ] &&
		[ "$(cat "$stamp" 2>/dev/null)" = "$maker" ]; then
		return 0
	fi
	rm -rf "$CERT_DIR"
	mkdir -p "$CERT_DIR"
	if [ "$maker" != openssl ]; then
		local tls_cmd
		read -r -a tls_cmd <<<"$maker"
		log "certs: ${tls_cmd[*]} --server-name localhost --ip 127.0.0.1 --out $CERT_DIR"
		(cd "$REPO_ROOT" && "${tls_cmd[@]}" --server-name localhost --ip 127.0.0.1 --out "$CERT_DIR") \
			>"$LOG_DIR/tls.log" 2>&1 || { tail_log "$LOG_DIR/tls.log"; die "certs: $maker failed"; }
	else
		log "certs: openssl into $CERT_DIR"
		local ca=$CERT_DIR/ca node=$CERT_DIR/node client=$CERT_DIR/client
		mkdir -p "$ca" "$node" "$client"
		(
			umask 077
			openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 \
				-subj /CN=stack-test-ca -keyout "$ca/ca-key.pem" -out "$ca/ca.pem" \
				-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign
			openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
				-subj /CN=localhost -keyout "$node/server-key.pem" -out "$node/server.csr"
			printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature,keyEncipherment\n' >"$node/ext.cnf"
			openssl x509 -req -in "$node/server.csr" -CA "$ca/ca.pem" -CAkey "$ca/ca-key.pem" \
				-CAcreateserial -days 3650 -extfile "$node/ext.cnf" -out "$node/server-cert.pem"
			openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
				-subj /CN=stack-client -keyout "$client/key.pem" -out "$client/client.csr"
			printf 'extendedKeyUsage=clientAuth\nkeyUsage=critical,digitalSignature,keyEncipherment\n' >"$client/ext.cnf"
			openssl x509 -req -in "$client/client.csr" -CA "$ca/ca.pem" -CAkey "$ca/ca-key.pem" \
				-CAcreateserial -days 3650 -extfile "$client/ext.cnf" -out "$client/cert.pem"
		) >"$LOG_DIR/openssl.log" 2>&1 || { tail_log "$LOG_DIR/openssl.log"; die "openssl failed"; }
		cp "$ca/ca.pem" "$node/ca.pem"
		cp "$ca/ca.pem" "$client/ca.pem"
		rm -f "$node/server.csr" "$node/ext.cnf" "$client/client.csr" "$client/ext.cnf"
		chmod 0644 "$node/ca.pem" "$node/server-cert.pem" "$client/ca.pem" "$client/cert.pem"
		chmod 0600 "$node/server-key.pem" "$client/key.pem" "$ca/ca-key.pem"
	fi
	local f
	for f in node/ca.pem node/server-cert.pem node/server-key.pem client/ca.pem client/cert.pem client/key.pem; do
		[ -s "$CERT_DIR/$f" ] || die "certs: $CERT_DIR/$f missing"
	done
	printf '%s\n' "$maker" >"$stamp"
}

write_registry_config() { # write_registry_config PORT
	mkdir -p "$REGISTRY_DIR/data"
	cat >"$REGISTRY_DIR/config.yml" <<EOF
version: 0.1
log:
  level: info
  formatter: text
storage:
  filesystem:
    rootdirectory: $REGISTRY_DIR/data
  delete:
    enabled: true
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: 127.0.0.1:$1
EOF
}

start_registry() {
	[ -f "$REGISTRY_DIR/config.yml" ] || die "no $REGISTRY_DIR/config.yml: run ci/stack.sh up"
	if ours "${REGISTRY_PID:-}"; then
		log "registry already running (pid $REGISTRY_PID)"
		return 0
	fi
	local logf=$LOG_DIR/registry.log
	(
		close_inherited_fds
		exec setsid docker-registry serve "$REGISTRY_DIR/config.yml"
	) >>"$logf" 2>&1 </dev/null &
	REGISTRY_PID=$!
	write_pids
	wait_ready registry "$REGISTRY_PID" "$logf" python3 "$REGISTRY_PY" ping "$REGISTRY_HOST"
}

# The second registry, with htpasswd auth (the credentials tests): nodes push to it with the
# client's credentials only (`docker login AUTH_REGISTRY_HOST` on this machine). Its user and
# a password made at each `up` are in the env file (AUTH_USER, AUTH_PASSWORD); the open
# registry stays for every other test.
AUTH_REGISTRY_DIR=$STACK_HOME/auth-registry

write_auth_registry_config() { # write_auth_registry_config PORT
	mkdir -p "$AUTH_REGISTRY_DIR/data"
	AUTH_USER=xtask
	AUTH_PASSWORD=$(python3 -c 'import secrets; print(secrets.token_hex(16))')
	# bcrypt, as the registry's htpasswd reader wants (Python's crypt: no extra package).
	python3 -W ignore -c 'import crypt, sys; print(sys.argv[1] + ":" + crypt.crypt(sys.argv[2], crypt.mksalt(crypt.METHOD_BLOWFISH)))' \
		"$AUTH_USER" "$AUTH_PASSWORD" >"$AUTH_REGISTRY_DIR/htpasswd"
	chmod 600 "$AUTH_REGISTRY_DIR/htpasswd"
	cat >"$AUTH_REGISTRY_DIR/config.yml" <<EOF
version: 0.1
log:
  level: info
  formatter: text
storage:
  filesystem:
    rootdirectory: $AUTH_REGISTRY_DIR/data
  delete:
    enabled: true
  maintenance:
    uploadpurging:
      enabled: false
auth:
  htpasswd:
    realm: xtask-stack
    path: $AUTH_REGISTRY_DIR/htpasswd
http:
  addr: 127.0.0.1:$1
EOF
}

# Ready when /v2/ asks for credentials (401).
auth_registry_asks() { # auth_registry_asks HOST
	python3 - "$1" <<'PY'
import sys, urllib.request, urllib.error
try:
    urllib.request.urlopen(f"http://{sys.argv[1]}/v2/", timeout=2)
except urllib.error.HTTPError as e:
    sys.exit(0 if e.code == 401 else 1)
except Exception:
    sys.exit(1)
sys.exit(1)
PY
}

start_auth_registry() {
	if ours "${AUTH_REGISTRY_PID:-}"; then
		log "auth registry already running (pid $AUTH_REGISTRY_PID)"
		return 0
	fi
	local logf=$LOG_DIR/auth-registry.log
	(
		close_inherited_fds
		exec setsid docker-registry serve "$AUTH_REGISTRY_DIR/config.yml"
	) >>"$logf" 2>&1 </dev/null &
	AUTH_REGISTRY_PID=$!
	write_pids
	wait_ready "auth registry" "$AUTH_REGISTRY_PID" "$logf" auth_registry_asks "$AUTH_REGISTRY_HOST"
}

# start_dockerd NAME SOCK [extra dockerd args]: sets DOCKERD_PID
start_dockerd() {
	local name=$1 sock=$2
	shift 2
	local dir=$DAEMON_DIR/$name logf=$LOG_DIR/dockerd-$name.log
	mkdir -p "$dir/data" "$dir/exec"
	printf '{"features":{"containerd-snapshotter":true}}\n' >"$dir/daemon.json"
	rm -f "$sock"
	# The prefix's bin dirs first, so dockerd starts the prefix's containerd and shims.
	(
		close_inherited_fds
		exec setsid env PATH="$STACK_PREFIX/usr/bin:$STACK_PREFIX/usr/sbin:$PATH" \
			"$STACK_PREFIX/usr/sbin/dockerd" --config-file "$dir/daemon.json" \
			--data-root "$dir/data" --exec-root "$dir/exec" --pidfile "$dir/dockerd.pid" \
			--host "unix://$sock" --iptables=false --ip6tables=false --bridge=none "$@"
	) >>"$logf" 2>&1 </dev/null &
	DOCKERD_PID=$!
}

node_port() { local var=REMOTE_DOCKER_URL_$1; echo "${!var##*:}"; }

tls_docker() { # tls_docker OS ARGS...: the docker CLI as the tool calls a node
	local var=REMOTE_DOCKER_URL_$1
	shift
	docker --tlsverify --tlscacert "$DOCKER_CERT_PATH/ca.pem" --tlscert "$DOCKER_CERT_PATH/cert.pem" \
		--tlskey "$DOCKER_CERT_PATH/key.pem" -H "${!var}" "$@"
}

start_node() { # start_node OS
	local os=$1 pidvar=NODE_PID_$1 sockvar=NODE_SOCK_$1
	case " ${NODES[*]} " in *" $os "*) ;; *) die "unknown node '$os' (one of: ${NODES[*]})" ;; esac
	if ours "${!pidvar:-}"; then
		log "node $os already running (pid ${!pidvar})"
		return 0
	fi
	local personavar=PERSONA_$os
	if [ "${!personavar}" = none ]; then
		start_dockerd "node-$os" "${!sockvar}" --host "tcp://127.0.0.1:$(node_port "$os")" --tlsverify \
			--tlscacert "$CERT_DIR/node/ca.pem" --tlscert "$CERT_DIR/node/server-cert.pem" \
			--tlskey "$CERT_DIR/node/server-key.pem"
	else
		# The stand-in listens on its unix socket only; its front holds the node's TLS port.
		start_dockerd "node-$os" "${!sockvar}"
	fi
	printf -v "$pidvar" '%s' "$DOCKERD_PID"
	write_pids
	local logf=$LOG_DIR/dockerd-node-$os.log
	wait_ready "node $os (unix)" "$DOCKERD_PID" "$logf" docker -H "unix://${!sockvar}" version
	if [ "${!personavar}" != none ]; then
		start_front "node-$os" "${!personavar}" "$(node_port "$os")" "${!sockvar}"
		printf -v "FRONT_PID_$os" '%s' "$FRONT_PID"
		printf -v "PERSONA_RECORD_$os" '%s' "$PERSONA_DIR/node-$os.jsonl"
		write_pids
		write_fronts_json
	fi
	wait_ready "node $os (tls, ${!personavar})" "$DOCKERD_PID" "$logf" tls_docker "$os" version
	if [ "$os" = ltsc2025 ]; then start_extra_fronts; fi
}

start_local() {
	if ours "${LOCAL_PID:-}"; then
		log "local daemon already running (pid $LOCAL_PID)"
		return 0
	fi
	start_dockerd local "${DOCKER_HOST#unix://}"
	LOCAL_PID=$DOCKERD_PID
	write_pids
	wait_ready "local daemon" "$LOCAL_PID" "$LOG_DIR/dockerd-local.log" docker -H "$DOCKER_HOST" version
}

setup_buildx() {
	mkdir -p "$DOCKER_CONFIG/cli-plugins"
	cp -f "$STACK_PREFIX/usr/libexec/docker/cli-plugins/docker-buildx" "$DOCKER_CONFIG/cli-plugins/"
	[ -f "$DOCKER_CONFIG/config.json" ] || echo '{}' >"$DOCKER_CONFIG/config.json"
	docker buildx version >&2 || die "buildx plugin does not run"
	# The default builder is the docker driver of the local daemon (DOCKER_HOST): it pushes
	# to the loopback HTTP registry as is (loopback is insecure-allowed by dockerd).
	docker buildx inspect default >/dev/null || die "buildx has no default builder for $DOCKER_HOST"
}

seed_fixtures() {
	local os
	for os in "${NODES[@]}"; do
		python3 "$REGISTRY_PY" seed-base "$REGISTRY_HOST" e2e/windows-base "$os" "${NODE_BUILD[$os]}" >&2
	done
	# Fixture helper images; the Dockerfile_windows default base names this stack's registry.
	rm -rf "$STACK_HOME/fixtures"
	mkdir -p "$STACK_HOME/fixtures"
	cp -R "$CI_DIR/fixtures/images" "$FIXTURES_DIR"
	local f
	for f in "$FIXTURES_DIR"/*/Dockerfile_windows; do
		sed -i "s#^ARG BASEIMAGE=REGISTRY/#ARG BASEIMAGE=$REGISTRY/#" "$f"
	done
}

# ---------------------------------------------------------------- personas (ci/front.py)

FRONT_PY=$CI_DIR/front.py
PERSONA_DIR=$STACK_HOME/personas
declare -A PERSONA_DEFAULT=([1809]=ws2019-docker20.10 [ltsc2022]=ws2022-docker26 [ltsc2025]=ws2025-docker27)

# PERSONA_<os> from STACK_PERSONA_<OS> (upper case, e.g. STACK_PERSONA_LTSC2022), else the
# default; refused before anything starts when the front does not know it.
choose_personas() {
	local os var known
	known=" $(python3 "$FRONT_PY" personas | cut -f1 | tr '\n' ' ')none "
	for os in "${NODES[@]}"; do
		var=STACK_PERSONA_${os^^}
		printf -v "PERSONA_$os" '%s' "${!var:-${PERSONA_DEFAULT[$os]}}"
		var=PERSONA_$os
		case "$known" in *" ${!var} "*) ;; *) die "STACK_PERSONA_${os^^}='${!var}': unknown persona (one of:$known)" ;; esac
	done
	EXTRA_FRONTS=${STACK_EXTRA_PERSONAS-$(python3 "$FRONT_PY" personas | cut -f1 | tr '\n' ' ')}
	for var in $EXTRA_FRONTS; do
		case "$known" in *" $var "*) [ "$var" != none ] ;; *) false ;; esac ||
			die "STACK_EXTRA_PERSONAS: unknown persona '$var' (one of:$known)"
	done
	rm -rf "$PERSONA_DIR"
	mkdir -p "$PERSONA_DIR/work"
}

key_of() { echo "${1//[^A-Za-z0-9]/_}"; }

extra_front_keys() {
	local p k
	for p in ${EXTRA_FRONTS:-}; do
		k=$(key_of "$p")
		echo "PERSONA_URL_$k" "FRONT_PID_$k" "PERSONA_RECORD_$k"
	done
}

write_extra_front_pids() { # write_extra_front_pids FILE
	local p var
	for p in ${EXTRA_FRONTS:-}; do
		var=FRONT_PID_$(key_of "$p")
		if [ -n "${!var:-}" ]; then echo "front-$p ${!var}" >>"$1"; fi
	done
	return 0
}

# spawn_front NAME PERSONA PORT BACKEND_SOCK: sets FRONT_PID (not waited for).
spawn_front() {
	local name=$1 persona=$2 port=$3 sock=$4 logf=$LOG_DIR/front-$1.log
	(
		close_inherited_fds
		exec setsid python3 "$FRONT_PY" serve --listen "127.0.0.1:$port" --backend "$sock" \
			--persona "$persona" --certs "$CERT_DIR/node" --record "$PERSONA_DIR/$name.jsonl" \
			--buildx "$STACK_PREFIX/usr/libexec/docker/cli-plugins/docker-buildx" \
			--work "$PERSONA_DIR/work" --name "$name"
	) >>"$logf" 2>&1 </dev/null &
	FRONT_PID=$!
}

port_open() { (: >"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# wait_front NAME PERSONA PID PORT: ready when it accepts connections.
wait_front() {
	wait_ready "front $1 ($2)" "$3" "$LOG_DIR/front-$1.log" port_open "$4"
}

# start_front NAME PERSONA PORT BACKEND_SOCK: sets FRONT_PID; ready when it accepts connections.
start_front() {
	spawn_front "$@"
	wait_front "$1" "$2" "$FRONT_PID" "$3"
}

# The extra fronts (STACK_EXTRA_PERSONAS) over node ltsc2025's stand-in; a restart keeps ports.
start_extra_fronts() {
	local p k var port ports i=0
	[ -n "${EXTRA_FRONTS:-}" ] || return 0
	read -r -a ports <<<"$(free_ports "$(wc -w <<<"$EXTRA_FRONTS")")"
	for p in $EXTRA_FRONTS; do
		k=$(key_of "$p")
		port=${ports[$i]}
		i=$((i + 1))
		var=FRONT_PID_$k
		if ours "${!var:-}"; then continue; fi
		var=PERSONA_URL_$k
		if [ -n "${!var:-}" ]; then port=${!var##*:}; fi
		# All started at once, then waited for: each takes a python start-up.
		spawn_front "persona-$p" "$p" "$port" "$NODE_SOCK_ltsc2025"
		printf -v "FRONT_PID_$k" '%s' "$FRONT_PID"
		printf -v "PERSONA_URL_$k" 'tcp://127.0.0.1:%s' "$port"
		printf -v "PERSONA_RECORD_$k" '%s' "$PERSONA_DIR/persona-$p.jsonl"
	done
	write_pids
	for p in $EXTRA_FRONTS; do
		k=$(key_of "$p")
		var=FRONT_PID_$k
		port=PERSONA_URL_$k
		wait_front "persona-$p" "$p" "${!var}" "${!port##*:}"
	done
	write_fronts_json
}

# $PERSONA_DIR/fronts.json: every front (name, url, persona, record, the node it stands on).
write_fronts_json() {
	local os p k url rec per args=()
	for os in "${NODES[@]}"; do
		url=REMOTE_DOCKER_URL_$os rec=PERSONA_RECORD_$os per=PERSONA_$os
		if [ -n "${!rec:-}" ]; then args+=("node-$os" "${!url}" "${!per}" "${!rec}" "$os"); fi
	done
	for p in ${EXTRA_FRONTS:-}; do
		k=$(key_of "$p")
		url=PERSONA_URL_$k rec=PERSONA_RECORD_$k
		if [ -n "${!url:-}" ]; then args+=("persona-$p" "${!url}" "$p" "${!rec}" ltsc2025); fi
	done
	python3 - "$PERSONA_DIR/fronts.json" "${args[@]}" <<'PYEOF'
import json, os, sys
out, a = sys.argv[1], sys.argv[2:]
rows = [dict(zip(("name", "url", "persona", "record", "node"), a[i:i + 5])) for i in range(0, len(a), 5)]
with open(out + ".tmp", "w") as f:
    json.dump(rows, f, indent=1)
os.replace(out + ".tmp", out)
PYEOF
}

# ---------------------------------------------------------------- commands

all_alive() {
	local name pid n=0
	[ -f "$PIDS_FILE" ] || return 1
	while read -r name pid; do
		ours "$pid" || return 1
		n=$((n + 1))
	done <"$PIDS_FILE"
	[ "$n" -ge $((3 + ${#NODES[@]})) ]
}

UP_DONE=0
on_up_exit() {
	[ "$UP_DONE" = 1 ] && return 0
	if [ "${STACK_KEEP_ON_FAILURE:-0}" = 1 ]; then
		log "up failed; left running (STACK_KEEP_ON_FAILURE=1): ci/stack.sh down stops it"
	else
		log "up failed; stopping what it started (logs stay in $LOG_DIR)"
		cmd_down || true
	fi
}

cmd_up() {
	local t0 os ports
	t0=$(now_ms)
	if [ -f "$ENV_FILE" ] && all_alive; then
		log "already up: . $ENV_FILE"
		return 0
	fi
	if [ -f "$PIDS_FILE" ] || [ -f "$ENV_FILE" ]; then
		log "a previous stack is partly there: stopping it first"
		cmd_down
	fi
	if ! installed; then cmd_install; fi
	trap on_up_exit EXIT

	# Fresh runtime state each time; install and certs are kept.
	rm -rf "$DAEMON_DIR" "$REGISTRY_DIR" "$AUTH_REGISTRY_DIR" "$STACK_HOME/fixtures" "$LOG_DIR"
	mkdir -p "$LOG_DIR" "$DAEMON_DIR"
	make_certs
	mkdir -p "$STACK_HOME/certbase"
	for os in "${NODES[@]}"; do
		ln -sfn ../certs/client "$STACK_HOME/certbase/.docker-$os"
	done

	choose_personas
	read -r -a ports <<<"$(free_ports $((2 + ${#NODES[@]})))"
	REGISTRY_HOST=127.0.0.1:${ports[0]}
	REGISTRY=$REGISTRY_HOST/e2e
	AUTH_REGISTRY_HOST=127.0.0.1:${ports[$((1 + ${#NODES[@]}))]}
	# shellcheck disable=SC2034 # reaches the env file through write_env's ${!key}
	AUTH_REGISTRY=$AUTH_REGISTRY_HOST/e2e
	local i=1
	for os in "${NODES[@]}"; do
		printf -v "REMOTE_DOCKER_URL_$os" 'tcp://127.0.0.1:%s' "${ports[$i]}"
		printf -v "NODE_SOCK_$os" '%s' "$DAEMON_DIR/node-$os/docker.sock"
		printf -v "BASE_IMAGE_$os" '%s' "$REGISTRY/windows-base:$os"
		printf -v "NODE_OS_VERSION_$os" '%s' "${NODE_BUILD[$os]}"
		i=$((i + 1))
	done
	# shellcheck disable=SC2034 # these reach the env file through write_env's ${!key}
	REMOTE_DOCKER_URL=$REMOTE_DOCKER_URL_1809 DOCKER_CERT_BASE_PATH=$STACK_HOME/certbase STACK_LOG_DIR=$LOG_DIR
	DOCKER_CERT_PATH=$CERT_DIR/client
	DOCKER_HOST=unix://$DAEMON_DIR/local/docker.sock
	DOCKER_CONFIG=$STACK_DOCKER_CONFIG
	FIXTURES_DIR=$STACK_HOME/fixtures/images
	local base_path=${PATH//"$STACK_PREFIX/usr/bin:$STACK_PREFIX/usr/sbin:"/}
	PATH=$STACK_PREFIX/usr/bin:$STACK_PREFIX/usr/sbin:$base_path
	export DOCKER_CONFIG DOCKER_HOST PATH
	unset DOCKER_TLS_VERIFY DOCKER_CONTEXT DOCKER_DEFAULT_PLATFORM IMAGES_DIR
	# For whoever sources the env file; plain shell variables here (nothing below needs them).
	# shellcheck disable=SC2034 # they reach the env file through write_env's ${!key}
	IMAGES_DIR=$FIXTURES_DIR DOCKER_DEFAULT_PLATFORM=windows/amd64

	write_registry_config "${ports[0]}"
	start_registry
	write_auth_registry_config "${ports[$((1 + ${#NODES[@]}))]}"
	start_auth_registry
	for os in "${NODES[@]}"; do
		start_node "$os"
	done
	start_local
	setup_buildx
	seed_fixtures
	write_env
	UP_DONE=1
	log "up in $(since "$t0"): . $ENV_FILE"
}

umount_under() { # unmount anything a killed daemon left mounted below STACK_HOME
	local m
	awk -v root="$STACK_HOME/" 'index($2, root) == 1 {print $2}' /proc/self/mounts | sort -r |
		while read -r m; do
			log "umount $m"
			umount -l "$m" 2>/dev/null || true
		done
}

cmd_down() {
	local t0 name pid p comm
	t0=$(now_ms)
	if [ -f "$PIDS_FILE" ]; then
		# the daemons together (each takes ~1 s to shut down), then the registry
		local daemons=()
		for name in local "${NODES[@]/#/node-}" $(awk '$1 ~ /^front-/ {print $1}' "$PIDS_FILE"); do
			pid=$(awk -v n="$name" '$1 == n {print $2}' "$PIDS_FILE")
			if [ -n "$pid" ]; then daemons+=("$name" "$pid"); fi
		done
		if [ ${#daemons[@]} -gt 0 ]; then stop_pids "${daemons[@]}"; fi
		pid=$(awk '$1 == "registry" {print $2}' "$PIDS_FILE")
		if [ -n "$pid" ]; then stop_pid registry "$pid"; fi
		pid=$(awk '$1 == "auth-registry" {print $2}' "$PIDS_FILE")
		if [ -n "$pid" ]; then stop_pid "auth registry" "$pid"; fi
	fi
	# Anything else still running from this STACK_HOME (e.g. an up that died before it
	# wrote a pid): found by pid through its command line.
	for p in $(ps -eo pid=); do
		[ "$p" = $$ ] || [ "$p" = "$BASHPID" ] && continue
		ours "$p" || continue
		comm=$(cat "/proc/$p/comm" 2>/dev/null) || continue
		case "$comm" in
		dockerd | containerd | containerd-shim* | docker-registry) stop_pid "stray $comm" "$p" ;;
		python3)
			case "$(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null)" in
			*"$FRONT_PY serve"*) stop_pid "stray front" "$p" ;;
			esac
			;;
		esac
	done
	umount_under
	rm -f "$PIDS_FILE" "$ENV_FILE"
	[ -d "$DAEMON_DIR" ] && find "$DAEMON_DIR" -maxdepth 2 -name '*.sock' -type s -delete
	log "down in $(since "$t0")"
}

cmd_status() {
	local rc=0 os pidvar sockvar
	if [ ! -f "$ENV_FILE" ]; then
		if [ -f "$PIDS_FILE" ]; then
			log "no env file; pids:"
			while read -r name pid; do
				if ours "$pid"; then echo "$name pid $pid: alive"; else echo "$name pid $pid: dead"; fi
			done <"$PIDS_FILE"
		fi
		echo "stack: down"
		return 3
	fi
	load_env
	report() { # report NAME PID CHECK...
		local name=$1 pid=$2
		shift 2
		if ! ours "$pid"; then
			echo "$name: down${pid:+ (pid $pid gone)}"
			rc=3
		elif "$@" >/dev/null 2>&1; then
			echo "$name: up (pid $pid)"
		else
			echo "$name: running but not answering (pid $pid)"
			rc=3
		fi
	}
	report "registry $REGISTRY_HOST" "${REGISTRY_PID:-}" python3 "$REGISTRY_PY" ping "$REGISTRY_HOST"
	if [ -n "${AUTH_REGISTRY_HOST:-}" ]; then
		report "auth registry $AUTH_REGISTRY_HOST" "${AUTH_REGISTRY_PID:-}" auth_registry_asks "$AUTH_REGISTRY_HOST"
	fi
	for os in "${NODES[@]}"; do
		pidvar=NODE_PID_$os
		sockvar=REMOTE_DOCKER_URL_$os
		report "node $os ${!sockvar}" "${!pidvar:-}" tls_docker "$os" version
	done
	report "local $DOCKER_HOST" "${LOCAL_PID:-}" docker -H "$DOCKER_HOST" version
	return "$rc"
}

cmd_stop_registry() {
	load_env
	stop_pid registry "${REGISTRY_PID:-}"
	REGISTRY_PID=
	write_env
}

cmd_start_registry() {
	load_env
	start_registry
	write_env
}

node_arg() {
	[ $# -eq 1 ] || die "usage: ci/stack.sh $CMD OS (one of: ${NODES[*]})"
	case " ${NODES[*]} " in *" $1 "*) ;; *) die "unknown node '$1' (one of: ${NODES[*]})" ;; esac
}

cmd_stop_node() {
	node_arg "$@"
	load_env
	local pidvar=NODE_PID_$1 frontvar=FRONT_PID_$1
	# Its front too: a stopped node refuses connections on its port, as a stopped dockerd does.
	stop_pids "front-node-$1" "${!frontvar:-}" "node-$1" "${!pidvar:-}"
	printf -v "$pidvar" '%s' ""
	printf -v "$frontvar" '%s' ""
	write_env
}

cmd_start_node() {
	node_arg "$@"
	load_env
	start_node "$1"
	write_env
}

CMD=${1:-}
[ $# -gt 0 ] && shift
case "$CMD" in
install) cmd_install ;;
up) cmd_up ;;
down) cmd_down ;;
status) cmd_status ;;
stop-registry) cmd_stop_registry ;;
start-registry) cmd_start_registry ;;
restart-registry)
	cmd_stop_registry
	cmd_start_registry
	;;
stop-node) cmd_stop_node "$@" ;;
start-node) cmd_start_node "$@" ;;
*)
	sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//' >&2
	exit 2
	;;
esac
