#!/usr/bin/env bash
# ci/smoke.sh — proves the stack does what the tool needs, with the tool's own docker
# commands (upstream's compat flow, then the matrix flow), checked through the registry API.
# Needs a running stack: ci/stack.sh up. Exits non-zero on the first check that fails.
set -euo pipefail

CI_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
STACK_HOME=${STACK_HOME:-$(cd "$CI_DIR/.." && pwd)/target/stack}
# shellcheck disable=SC1091 # written by ci/stack.sh up
. "$STACK_HOME/env"
REG=$CI_DIR/registry.py
R=$REGISTRY
C=$DOCKER_CERT_PATH
D=$FIXTURES_DIR

step() { printf '\n== %s\n' "$*" >&2; }
run() {
	printf '+ %s\n' "$*" >&2
	"$@"
}
node() { # node OS ARGS...: the docker CLI against a Windows node, as the tool calls it
	local var=REMOTE_DOCKER_URL_$1
	shift
	DOCKER_DEFAULT_PLATFORM=windows/amd64 run docker --tlsverify --tlscacert "$C/ca.pem" \
		--tlscert "$C/cert.pem" --tlskey "$C/key.pem" -H "${!var}" "$@"
}
check() { # check REF PYTHON-EXPR-ON-d: assert on `registry.py inspect REF`
	python3 "$REG" inspect "$1" | python3 -c '
import json, sys
d = json.load(sys.stdin)
imgs = [m for m in d.get("manifests", []) if "image" in m] or ([{"image": d["image"], "platform": None}] if "image" in d else [])
ok = eval(sys.argv[1])
print(("ok   " if ok else "FAIL ") + sys.argv[2] + ": " + sys.argv[1], file=sys.stderr)
sys.exit(0 if ok else 1)' "$2" "$1"
}

step "compat: build and push on the 1809 node, then the Linux cache image on the local daemon"
node 1809 build --no-cache --pull -t "$R/alpha:1.0" -f "$D/alpha/Dockerfile_windows" "$D/alpha/"
node 1809 push "$R/alpha:1.0"
run docker buildx build --progress=plain --no-cache --pull --output=type=registry --platform linux/amd64 \
	--build-arg "SOURCE=$R/alpha:1.0" -t "$R/alpha:1.0-linux-cache" "$D/alpha/"
check "$R/alpha:1.0" '[(i["image"]["os"], i["image"]["architecture"]) for i in imgs] == [("windows", "amd64")] and {"Files/alpha/hello.txt", "Files/alpha/sub/nested.txt"} <= set(imgs[0]["image"]["files"])'
check "$R/alpha:1.0-linux-cache" '[(i["image"]["os"], i["image"]["architecture"]) for i in imgs] == [("linux", "amd64")] and sorted(imgs[0]["image"]["files"]) == ["alpha/config.ini", "alpha/hello.txt", "alpha/sub/nested.txt"]'

step "matrix: one image per node, then a manifest list with os.version"
for os in 1809 ltsc2022; do
	base=BASE_IMAGE_$os
	node "$os" build --no-cache --pull --build-arg "OS_VERSION=$os" --build-arg "BASEIMAGE=${!base}" \
		-t "$R/beta:2.1-windows-amd64-$os" -f "$D/beta/Dockerfile_windows" "$D/beta/"
	node "$os" push "$R/beta:2.1-windows-amd64-$os"
	check "$R/beta:2.1-windows-amd64-$os" "imgs[0][\"image\"][\"labels\"] == {\"fixture.os-version\": \"$os\"} and \"Files/beta/bin/tool.txt\" in imgs[0][\"image\"][\"files\"]"
done
d1809=$(python3 "$REG" digest "$R/beta:2.1-windows-amd64-1809" --platform windows/amd64)
d2022=$(python3 "$REG" digest "$R/beta:2.1-windows-amd64-ltsc2022" --platform windows/amd64)
run docker manifest rm "$R/beta:2.1" 2>/dev/null || true
run docker manifest create --insecure "$R/beta:2.1" "$R/beta@$d1809" "$R/beta@$d2022"
run docker manifest annotate --os-version "$NODE_OS_VERSION_1809" "$R/beta:2.1" "$R/beta@$d1809"
# shellcheck disable=SC2154 # from the env file
run docker manifest annotate --os-version "$NODE_OS_VERSION_ltsc2022" "$R/beta:2.1" "$R/beta@$d2022"
run docker manifest push --purge --insecure "$R/beta:2.1"
check "$R/beta:2.1" "sorted((m[\"platform\"][\"os\"], m[\"platform\"][\"os.version\"]) for m in d[\"manifests\"]) == [(\"windows\", \"$NODE_OS_VERSION_1809\"), (\"windows\", \"$NODE_OS_VERSION_ltsc2022\")]"
for os in 1809 ltsc2022; do
	run docker buildx build --progress=plain --no-cache --pull --output=type=registry --platform linux/amd64 \
		--build-arg "SOURCE=$R/beta:2.1-windows-amd64-$os" -t "$R/beta:2.1-linux-amd64-$os" "$D/beta/"
	check "$R/beta:2.1-linux-amd64-$os" 'imgs[0]["image"]["files"] == ["usr/local/bin/tool.txt"]'
done

step "a node client with BUILDX_NO_DEFAULT_ATTESTATIONS=1 pushes a plain manifest"
BUILDX_NO_DEFAULT_ATTESTATIONS=1 node ltsc2022 build --no-cache --pull -t "$R/alpha:plain" \
	-f "$D/alpha/Dockerfile_windows" "$D/alpha/"
node ltsc2022 push "$R/alpha:plain"
check "$R/alpha:plain" 'd["kind"] == "manifest" and d["image"]["os"] == "windows"'
run python3 "$REG" delete "$R/alpha:plain"
tags=$(python3 "$REG" tags "$REGISTRY_HOST" e2e/alpha)
if [[ $'\n'$tags$'\n' == *$'\nplain\n'* ]]; then
	echo "FAIL delete: tag plain still listed" >&2
	exit 1
fi
echo "ok   delete $R/alpha:plain" >&2
printf '\nsmoke: all checks passed\n' >&2
