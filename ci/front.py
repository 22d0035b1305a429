#!/usr/bin/env python3
"""A Windows-persona front for a stand-in node: the Docker Engine API over mutual TLS, answering
as a chosen Windows engine and forwarding the real work to a Linux dockerd (stdlib only).

  front.py serve --listen 127.0.0.1:PORT --backend SOCK --persona NAME --certs DIR
                 --record FILE --buildx PATH [--work DIR] [--name NAME]
  front.py personas                 the personas, one per line: NAME  what it answers as
  front.py show NAME                one persona's answers as JSON (its ping headers, /version
                                    and /info fields, and their sources)

Why: the docker CLI picks its builder from the daemon's `/_ping` (docker/cli
`cli/command/cli.go` BuildKitEnabled: `Builder-Version: 2` means BuildKit; otherwise BuildKit
only when OSType is not windows), so a Linux stand-in node never meets the requests a real
Windows node gets: the classic `POST /build` with `isolation=` in its query, `/v1.NN/` prefixes
of a newer engine, windowsfilter answers. A Linux dockerd refuses classic builds of
windows/amd64 ("operating system is not supported") and any `isolation=hyperv`, and answers a
classic request sent on with `version=2` with "failed to read downloaded context" (STACK.md,
"More measured facts"). So for a classic persona this front does the classic build's work
itself: it unpacks the request's tar context and runs the build through BuildKit on the
stand-in (`docker buildx build` against the stand-in's unix socket, windows/amd64, no
attestations, so the image is one plain manifest as a windowsfilter engine pushes it), and
answers in the classic JSON-message stream (`stream` lines, then `aux {"ID": …}`). The
request's credentials (X-Registry-Config) reach that child's pulls through a private
DOCKER_CONFIG made for it and removed after it; they are never logged.

What passes through: every other request, its `/v1.NN/` prefix mapped down to what the
stand-in serves (1.45, dockerd 26.1), Windows-only query parameters (`isolation`) taken out;
streamed answers (chunked) stream; hijacked and upgraded connections (BuildKit's `/session`
and `/grpc`, attach, exec) are piped both ways untouched once the stand-in has answered.

What is recorded: one JSON line per request in --record (method, path, query, the NAMES of the
headers — never a value, so no credential — and what the front did with it), for the tests
to read what a Windows node was asked.

Personas and where their answers come from: PERSONAS below, each with its sources.
"""

import argparse
import base64
import datetime
import io
import json
import os
import re
import select
import shutil
import signal
import socket
import socketserver
import ssl
import subprocess
import sys
import tarfile
import tempfile
import threading
import urllib.parse

# The API version the stand-in serves (dockerd 26.1.5 from trixie): a newer /v1.NN/ prefix is
# mapped down to it. Measured: `docker -H unix://… version` on the stand-in answers 1.45.
BACKEND_API = (1, 45)

# Kernel strings are the Windows BuildLabEx the daemon reports ("10.0 BUILD (LAB)").
K_1809 = "10.0 17763 (17763.1.amd64fre.rs5_release.180914-1434)"
K_2022 = "10.0 20348 (20348.1.amd64fre.fe_release.210507-1500)"
K_2025 = "10.0 26100 (26100.1.amd64fre.ge_release.240331-1435)"
WINDOWSFILTER = ("windowsfilter", [["Windows", ""]])
CONTAINERD_WINDOWS = ("windows", [["driver-type", "io.containerd.snapshotter.v1"]])

PERSONAS = {
    "ws2019-docker20.10": {
        "about": "Windows Server 2019 (1809, build 17763) with Docker Engine 20.10, classic builder",
        "builder": "1",
        "platform": "Docker Engine - Community",
        "version": "20.10.24",
        "api": "1.41",
        "min_api": "1.24",
        "go": "go1.19.7",
        "commit": "5d6db84",
        "kernel": K_1809,
        "os_version": "10.0.17763.6532",
        "operating_system": "Windows Server 2019 Datacenter Version 1809 (OS Build 17763.6532)",
        "isolation": "process",
        "driver": WINDOWSFILTER,
        "sources": [
            "kernel string, Driver windowsfilter with its empty 'Windows' status line, OSType, "
            "'Default Isolation': docker info of a 17763 host in moby/moby#38306",
            "Operating System format '<edition> Version <ReleaseId> (OS Build <build>.<UBR>)': "
            "moby/moby#36451 (operatingsystem_windows.go)",
            "process as the default isolation on Windows Server: docker daemon log "
            "'Windows default isolation mode: process' on Windows Server 2019 in docker/for-win#10279",
            "20.10 serves API 1.41, minimum 1.24: docker version of 20.10.7 in "
            "gesellix/docker-client#259",
        ],
    },
    "ws2022-docker26": {
        "about": "Windows Server 2022 (ltsc2022, build 20348) with Docker Engine 26.1, classic builder",
        "builder": "1",
        "platform": "Docker Engine - Community",
        "version": "26.1.5",
        "api": "1.45",
        "min_api": "1.24",
        "go": "go1.21.12",
        "commit": "411e817",
        "kernel": K_2022,
        "os_version": "10.0.20348.2849",
        "operating_system": "Windows Server 2022 Datacenter Version 2009 (OS Build 20348.2849)",
        "isolation": "process",
        "driver": WINDOWSFILTER,
        "sources": [
            "'Windows Server 2022 Datacenter Version 2009 (OS Build 20348.524)' as the host's "
            "name: gesellix/docker-client#259 (GitHub Actions windows-2022 runner)",
            "kernel 20348.1.amd64fre.fe_release.210507-1500: the 2022 RTM BuildLabEx (as in "
            "xtask's own probe tests)",
            "Docker 26.1 serves API 1.45 (the stand-in's own dockerd 26.1.5 answers the same)",
        ],
    },
    "ws2025-docker27": {
        "about": "Windows Server 2025 (ltsc2025, build 26100) with Docker Engine 27.5, classic "
        "builder, process isolation by default",
        "builder": "1",
        "platform": "Docker Engine - Community",
        "version": "27.5.1",
        "api": "1.47",
        "min_api": "1.24",
        "go": "go1.22.11",
        "commit": "4c9b3b0",
        "kernel": K_2025,
        "os_version": "10.0.26100.2894",
        "operating_system": "Windows Server 2025 Datacenter Version 24H2 (OS Build 26100.2894)",
        "isolation": "process",
        "driver": WINDOWSFILTER,
        "sources": [
            "host 10.0.26100.2894 (windows-2025 runner): actions/runner-images#11582",
            "kernel 26100.1.amd64fre.ge_release.240331-1435: issue 18's example of a 2025 engine",
            "Docker 27 serves API 1.47 (STACK.md; 27.5.1 is docker-library's Windows 2025 "
            "variant, docker-library/official-images#18283)",
        ],
    },
    "ws2025-docker29-containerd": {
        "about": "Windows Server 2025 with Docker Engine 29 on the containerd image store: "
        "BuildKit is the builder (Builder-Version 2), default isolation process",
        "builder": "2",
        "platform": "Docker Engine - Community",
        "version": "29.1.3",
        "api": "1.52",
        "min_api": "1.44",
        "go": "go1.25.5",
        "commit": "fbf3ed2",
        "kernel": K_2025,
        "os_version": "10.0.26100.2894",
        "operating_system": "Windows Server 2025 Datacenter Version 24H2 (OS Build 26100.2894)",
        "isolation": "process",
        "driver": CONTAINERD_WINDOWS,
        "sources": [
            "BuildKit with the containerd image store on Windows: moby/moby#51998 (merged Feb "
            "2026); the default builder there: moby/moby#53625",
            "DriverStatus [['driver-type','io.containerd.snapshotter.v1']] on a containerd-store "
            "engine: docker/for-win#14460 (docker info, 'driver-type: io.containerd.snapshotter.v1');"
            " the Windows snapshotter is named 'windows': containerd/containerd#9822 (ctr plugins ls)",
            "Docker 29 serves API 1.52 (STACK.md) and raised its minimum API to 1.44",
            "the embedded BuildKit uses the daemon's default isolation: moby/moby#50942",
        ],
    },
    # The same engine configured with `"exec-opts": ["isolation=hyperv"]` in daemon.json: its
    # embedded BuildKit then runs every build under Hyper-V (moby/moby#50942).
    "ws2025-docker29-containerd-hyperv": None,
    "mcr-ws2022": {
        "about": "Windows Server 2022 with Mirantis Container Runtime 20.10, classic builder",
        "builder": "1",
        "platform": "Mirantis Container Runtime",
        "license": "Mirantis Container Runtime",
        "version": "20.10.7",
        "api": "1.41",
        "min_api": "1.24",
        "go": "go1.13.15",
        "commit": "e1bf5b9c13",
        "kernel": K_2022,
        "os_version": "10.0.20348.524",
        "operating_system": "Windows Server 2022 Datacenter Version 2009 (OS Build 20348.524)",
        "isolation": "process",
        "driver": WINDOWSFILTER,
        "sources": [
            "docker version on a windows-2022 runner: 'Server: Mirantis Container Runtime', "
            "Version 20.10.7, API 1.41 (minimum 1.24), go1.13.15, commit e1bf5b9c13; host "
            "'Windows Server 2022 Datacenter Version 2009 (OS Build 20348.524)': "
            "gesellix/docker-client#259",
        ],
    },
    "linux": {
        "about": "the stand-in as it is (Linux dockerd 26.1, BuildKit): requests pass through",
        "passthrough": True,
        "sources": ["the stand-in itself"],
    },
}

PERSONAS["ws2025-docker29-containerd-hyperv"] = {
    **PERSONAS["ws2025-docker29-containerd"],
    "about": "ws2025-docker29-containerd with exec-opts isolation=hyperv: the daemon's default "
    "isolation (and so its BuildKit's) is Hyper-V",
    "isolation": "hyperv",
    "sources": PERSONAS["ws2025-docker29-containerd"]["sources"]
    + ["'Default Isolation: hyperv' as docker info prints it: moby/moby#38306"],
}

RECORD_LOCK = threading.Lock()
HOP_HEADERS = {"connection", "keep-alive", "transfer-encoding", "upgrade", "content-length"}


def log(msg):
    print(f"front: {msg}", file=sys.stderr, flush=True)


class Closed(Exception):
    """The peer closed the connection."""


class Conn:
    """A socket with its own read buffer, so that a hijacked connection can be handed on with
    whatever was read ahead."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = b""

    def _fill(self):
        data = self.sock.recv(65536)
        if not data:
            raise Closed()
        self.buf += data

    def read_until(self, marker, limit=1 << 20):
        while marker not in self.buf:
            if len(self.buf) > limit:
                raise ValueError("header too long")
            self._fill()
        head, _, self.buf = self.buf.partition(marker)
        return head

    def read_exact(self, n):
        while len(self.buf) < n:
            self._fill()
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def read_some(self, n):
        if not self.buf:
            self._fill()
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def send(self, data):
        self.sock.sendall(data)


def parse_head(raw):
    lines = raw.decode("latin-1").split("\r\n")
    first = lines[0]
    headers = []
    for line in lines[1:]:
        if not line:
            continue
        k, _, v = line.partition(":")
        headers.append((k.strip(), v.strip()))
    return first, headers


def header(headers, name):
    name = name.lower()
    for k, v in headers:
        if k.lower() == name:
            return v
    return None


def render_head(first, headers):
    return (first + "\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers) + "\r\n").encode(
        "latin-1"
    )


def relay_body(src, dst_send, headers, is_response=False, status=200, method="GET"):
    """Copies one message body from src (a Conn) with dst_send, keeping its framing. Returns
    False when the body runs to the end of the connection (the caller closes)."""
    if is_response and (method == "HEAD" or status in (204, 304) or 100 <= status < 200):
        return True
    te = (header(headers, "Transfer-Encoding") or "").lower()
    if "chunked" in te:
        while True:
            line = src.read_until(b"\r\n")
            dst_send(line + b"\r\n")
            size = int(line.split(b";")[0].strip() or b"0", 16)
            if size == 0:
                # trailers up to the empty line
                while True:
                    t = src.read_until(b"\r\n")
                    dst_send(t + b"\r\n")
                    if not t:
                        return True
            left = size
            while left:
                part = src.read_some(min(left, 65536))
                dst_send(part)
                left -= len(part)
            dst_send(src.read_exact(2))
    cl = header(headers, "Content-Length")
    if cl is not None:
        left = int(cl)
        while left:
            part = src.read_some(min(left, 65536))
            dst_send(part)
            left -= len(part)
        return True
    if not is_response:
        return True
    # A response with no length: until the stand-in closes.
    try:
        while True:
            dst_send(src.read_some(65536))
    except Closed:
        return False


def read_body(src, headers):
    chunks = []
    relay_body(src, chunks.append, headers)
    raw = b"".join(chunks)
    te = (header(headers, "Transfer-Encoding") or "").lower()
    if "chunked" not in te:
        return raw
    out, rest = [], raw
    while True:
        line, _, rest = rest.partition(b"\r\n")
        size = int(line.split(b";")[0].strip() or b"0", 16)
        if size == 0:
            return b"".join(out)
        out.append(rest[:size])
        rest = rest[size + 2 :]


def pipe(a, b):
    """Both ways until either side closes: a hijacked connection (attach, /session, /grpc).
    One thread, select-driven, so an SSL object is never used by two threads at once."""
    socks = {a.sock: b, b.sock: a}
    for c, other in ((a, b), (b, a)):
        if c.buf:
            other.send(c.buf)
            c.buf = b""
    try:
        while True:
            ready = [s for s in socks if isinstance(s, ssl.SSLSocket) and s.pending()]
            if not ready:
                ready, _, _ = select.select(list(socks), [], [])
            for s in ready:
                data = s.recv(65536)
                if not data:
                    return
                socks[s].send(data)
    except (OSError, ssl.SSLError):
        return


class Front:
    def __init__(self, args):
        self.args = args
        self.name = args.name or args.persona
        self.persona = PERSONAS[args.persona]
        self.passthrough = bool(self.persona.get("passthrough"))
        self.work = args.work or tempfile.gettempdir()

    # ---------------------------------------------------------------- records

    def record(self, entry):
        entry = {"time": datetime.datetime.now(datetime.timezone.utc).isoformat(), **entry}
        line = json.dumps(entry, sort_keys=True) + "\n"
        with RECORD_LOCK:
            with open(self.args.record, "a", encoding="utf-8") as f:
                f.write(line)

    # ---------------------------------------------------------------- the persona's answers

    def ping_headers(self, headers):
        p = self.persona
        out = [(k, v) for k, v in headers if k.lower() not in (
            "api-version", "builder-version", "ostype", "docker-experimental", "server")]
        out += [
            ("Api-Version", p["api"]),
            ("Builder-Version", p["builder"]),
            ("Docker-Experimental", "false"),
            ("Ostype", "windows"),
            ("Server", f"Docker/{p['version']} (windows)"),
        ]
        return out

    def patch_version(self, v):
        p = self.persona
        details = {
            "ApiVersion": p["api"],
            "Arch": "amd64",
            "BuildTime": v.get("BuildTime", ""),
            "Experimental": "false",
            "GitCommit": p["commit"],
            "GoVersion": p["go"],
            "KernelVersion": p["kernel"],
            "MinAPIVersion": p["min_api"],
            "Os": "windows",
        }
        v.update(
            {
                "Platform": {"Name": p["platform"]},
                "Version": p["version"],
                "ApiVersion": p["api"],
                "MinAPIVersion": p["min_api"],
                "GitCommit": p["commit"],
                "GoVersion": p["go"],
                "Os": "windows",
                "Arch": "amd64",
                "KernelVersion": p["kernel"],
                # Windows engines list only the Engine component (no containerd/runc rows).
                "Components": [{"Name": "Engine", "Version": p["version"], "Details": details}],
            }
        )
        return v

    def patch_info(self, v):
        p = self.persona
        driver, status = p["driver"]
        v.update(
            {
                "OSType": "windows",
                "OperatingSystem": p["operating_system"],
                "OSVersion": p["os_version"],
                "KernelVersion": p["kernel"],
                "Architecture": "x86_64",
                "Isolation": p["isolation"],
                "Driver": driver,
                "DriverStatus": status,
                "ServerVersion": p["version"],
                # Docker CE builds say "Community Engine"; what MCR's /info says here is not in
                # any answer cited above: its product name, from its docker version, is used.
                "ProductLicense": p.get("license", "Community Engine"),
                "DockerRootDir": "C:\\ProgramData\\docker",
                "CgroupDriver": "",
                "CgroupVersion": "",
                "Runtimes": {},
                "DefaultRuntime": "",
                "InitBinary": "",
                "SecurityOptions": [],
                "ExperimentalBuild": False,
                # As moby/moby#38306's docker info lists them for a Windows engine.
                "Plugins": {
                    "Volume": ["local"],
                    "Network": ["ics", "internal", "l2bridge", "l2tunnel", "nat", "null",
                                "overlay", "private", "transparent"],
                    "Authorization": None,
                    "Log": ["awslogs", "etwlogs", "fluentd", "gcplogs", "gelf", "json-file",
                            "local", "logentries", "splunk", "syslog"],
                },
            }
        )
        return v

    # ---------------------------------------------------------------- connections

    def backend(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(self.args.backend)
        return Conn(s)

    def handle(self, client):
        while True:
            try:
                raw = client.read_until(b"\r\n\r\n")
            except (Closed, OSError, ssl.SSLError):
                return
            first, headers = parse_head(raw)
            try:
                method, target, version = first.split(" ", 2)
            except ValueError:
                return
            keep = self.one(client, method, target, version, headers)
            if not keep:
                return

    def one(self, client, method, target, version, headers):
        url = urllib.parse.urlsplit(target)
        path = url.path
        query = urllib.parse.parse_qs(url.query, keep_blank_values=True)
        entry = {
            "front": self.name,
            "persona": self.args.persona,
            "method": method,
            "path": path,
            "query": query,
            "headers": sorted({k for k, _ in headers}),
        }
        m = re.match(r"^/v(\d+)\.(\d+)(/.*)$", path)
        bare = m.group(3) if m else path
        fpath = path
        if m and not self.passthrough and (int(m.group(1)), int(m.group(2))) > BACKEND_API:
            fpath = f"/v{BACKEND_API[0]}.{BACKEND_API[1]}{m.group(3)}"
        fquery = dict(query)
        removed = {}
        if not self.passthrough and "isolation" in fquery:
            removed["isolation"] = fquery.pop("isolation")
        entry["removed"] = removed
        if fpath != path:
            entry["forwarded_path"] = fpath

        if not self.passthrough and method == "POST" and bare == "/build":
            bv = (query.get("version") or ["1"])[-1]
            if bv != "2":
                entry["action"] = "classic-build"
                return self.classic_build(client, headers, query, entry)
        if not self.passthrough and bare == "/_ping":
            entry["action"] = "ping"
        elif not self.passthrough and method == "GET" and bare in ("/version", "/info"):
            entry["action"] = "patched"
        elif header(headers, "Upgrade"):
            entry["action"] = "hijack"
        else:
            entry["action"] = "forward"
        self.record(entry)
        ftarget = fpath + ("?" + urllib.parse.urlencode(fquery, doseq=True) if fquery else "")
        return self.forward(client, method, ftarget, version, headers, entry["action"])

    def forward(self, client, method, target, version, headers, action):
        try:
            back = self.backend()
        except OSError as e:
            body = json.dumps({"message": f"stand-in not reachable: {e}"}).encode()
            client.send(render_head("HTTP/1.1 502 Bad Gateway", [
                ("Content-Type", "application/json"), ("Content-Length", str(len(body)))]) + body)
            relay_body(client, lambda _d: None, headers)
            return True
        try:
            back.send(render_head(f"{method} {target} {version}", headers))
            relay_body(client, back.send, headers)
            raw = back.read_until(b"\r\n\r\n")
            status_line, rheaders = parse_head(raw)
            status = int(status_line.split(" ", 2)[1])
            if action == "hijack" or status == 101:
                client.send(render_head(status_line, rheaders))
                pipe(client, back)
                return False
            if action in ("ping", "patched") and 200 <= status < 300:
                body = read_body(back, rheaders) if method != "HEAD" else b""
                rheaders = [(k, v) for k, v in rheaders if k.lower() not in HOP_HEADERS]
                if action == "ping":
                    rheaders = self.ping_headers(rheaders)
                else:
                    doc = json.loads(body)
                    doc = self.patch_version(doc) if target.split("?")[0].endswith("/version") \
                        else self.patch_info(doc)
                    body = json.dumps(doc).encode()
                    rheaders = self.ping_headers(rheaders)
                if method != "HEAD":
                    rheaders.append(("Content-Length", str(len(body))))
                else:
                    rheaders.append(("Content-Length", "0"))
                client.send(render_head(status_line, rheaders) + body)
                return True
            if not self.passthrough:
                rheaders = [(k, v) for k, v in rheaders if k.lower() not in (
                    "api-version", "ostype", "server", "docker-experimental")]
                rheaders += [("Api-Version", self.persona["api"]), ("Ostype", "windows"),
                             ("Server", f"Docker/{self.persona['version']} (windows)")]
            client.send(render_head(status_line, rheaders))
            framed = relay_body(back, client.send, rheaders, True, status, method)
            return framed and (header(rheaders, "Connection") or "").lower() != "close"
        except (Closed, OSError, ssl.SSLError, ValueError):
            return False
        finally:
            back.sock.close()

    # ---------------------------------------------------------------- the classic build

    def classic_build(self, client, headers, query, entry):
        """Does a classic `POST /build`'s work through BuildKit on the stand-in and answers in
        the classic JSON-message stream."""
        q = lambda k: (query.get(k) or [""])[-1]  # noqa: E731
        try:
            body = read_body(client, headers)
        except (Closed, OSError, ssl.SSLError):
            self.record(entry | {"outcome": "client went away while sending the context"})
            return False
        tmp = tempfile.mkdtemp(prefix="front-build-", dir=self.work)
        proc = None
        try:
            ctx = os.path.join(tmp, "context")
            os.mkdir(ctx)
            with tarfile.open(fileobj=io.BytesIO(body), mode="r:*") as tf:
                tf.extractall(ctx, filter="tar")
            cfg = os.path.join(tmp, "config")
            os.makedirs(os.path.join(cfg, "cli-plugins"))
            os.symlink(self.args.buildx, os.path.join(cfg, "cli-plugins", "docker-buildx"))
            auths, registries = {}, []
            xrc = header(headers, "X-Registry-Config")
            if xrc:
                try:
                    pad = "=" * (-len(xrc) % 4)
                    doc = json.loads(base64.urlsafe_b64decode(xrc + pad))
                except ValueError:
                    doc = {}
                for reg, a in (doc or {}).items():
                    if not isinstance(a, dict):
                        continue
                    registries.append(reg)
                    one = {}
                    if a.get("identitytoken"):
                        one["identitytoken"] = a["identitytoken"]
                    if a.get("username") or a.get("password"):
                        one["auth"] = base64.b64encode(
                            f"{a.get('username', '')}:{a.get('password', '')}".encode()
                        ).decode()
                    elif a.get("auth"):
                        one["auth"] = a["auth"]
                    if one:
                        auths[reg] = one
            fd = os.open(os.path.join(cfg, "config.json"), os.O_WRONLY | os.O_CREAT, 0o600)
            with os.fdopen(fd, "w") as f:
                json.dump({"auths": auths}, f)
            iid = os.path.join(tmp, "iid")
            dockerfile = q("dockerfile") or "Dockerfile"
            platform = q("platform") or "windows/amd64"
            argv = ["docker", "buildx", "build", "--progress=plain", "--platform", platform,
                    "--provenance=false", "--sbom=false", "--iidfile", iid,
                    "-f", os.path.join(ctx, dockerfile)]
            for t in query.get("t", []):
                argv += ["-t", t]
            for k, v in sorted(json.loads(q("buildargs") or "{}").items()):
                argv += ["--build-arg", f"{k}={v}" if v is not None else k]
            for k, v in sorted(json.loads(q("labels") or "{}").items()):
                argv += ["--label", f"{k}={v}"]
            if q("nocache") in ("1", "true", "True"):
                argv.append("--no-cache")
            if q("pull") not in ("", "0", "false", "False"):
                argv.append("--pull")
            if q("target"):
                argv += ["--target", q("target")]
            argv.append(ctx)
            env = {
                "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                "HOME": tmp,
                "DOCKER_HOST": f"unix://{self.args.backend}",
                "DOCKER_CONFIG": cfg,
                "BUILDX_NO_DEFAULT_ATTESTATIONS": "1",
            }
            entry["build"] = {
                "argv": [a if not a.startswith(tmp) else a.replace(tmp, "$TMP") for a in argv],
                "credentials_for": sorted(registries),
            }
            client.send(render_head("HTTP/1.1 200 OK", [
                ("Api-Version", self.persona["api"]),
                ("Content-Type", "application/json"),
                ("Docker-Experimental", "false"),
                ("Ostype", "windows"),
                ("Server", f"Docker/{self.persona['version']} (windows)"),
                ("Transfer-Encoding", "chunked"),
            ]))

            def msg(obj):
                data = json.dumps(obj).encode() + b"\r\n"
                client.send(b"%x\r\n%s\r\n" % (len(data), data))

            proc = subprocess.Popen(argv, env=env, cwd=tmp, stdin=subprocess.DEVNULL,
                                    stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                    start_new_session=True)
            last_error = ""
            for raw in proc.stdout:
                line = raw.decode("utf-8", "replace").rstrip("\n")
                if line.startswith("ERROR:") or "ERROR:" in line[:40]:
                    last_error = line.split("ERROR:", 1)[1].strip()
                msg({"stream": line + "\n"})
            rc = proc.wait()
            entry["build"]["exit"] = rc
            if rc == 0:
                with open(iid, encoding="utf-8") as f:
                    image_id = f.read().strip()
                msg({"aux": {"ID": image_id}})
                short = image_id.split(":", 1)[-1][:12]
                msg({"stream": f"Successfully built {short}\n"})
                for t in query.get("t", []):
                    msg({"stream": f"Successfully tagged {t}\n"})
                entry["outcome"] = "built"
            else:
                text = last_error or f"the build exited with {rc}"
                msg({"errorDetail": {"message": text}, "error": text})
                entry["outcome"] = "failed"
            # The child's folder (its credentials) is gone before the answer ends.
            shutil.rmtree(tmp, ignore_errors=True)
            self.record(entry)
            client.send(b"0\r\n\r\n")
            return True
        except (Closed, OSError, ssl.SSLError) as e:
            entry["outcome"] = f"connection lost: {e.__class__.__name__}"
            self.record(entry)
            return False
        except (ValueError, tarfile.TarError) as e:
            # A request this front cannot read: a 400 the CLI prints, as a daemon would.
            text = f"front: cannot read the build request: {e}"
            body = json.dumps({"message": text}).encode()
            entry["outcome"] = "refused"
            self.record(entry)
            try:
                client.send(render_head("HTTP/1.1 400 Bad Request", [
                    ("Content-Type", "application/json"),
                    ("Content-Length", str(len(body)))]) + body)
            except OSError:
                return False
            return True
        finally:
            if proc is not None and proc.poll() is None:
                # The client went away mid-build: stop the build, as a daemon would.
                try:
                    os.killpg(proc.pid, signal.SIGTERM)
                    proc.wait(timeout=10)
                except (OSError, subprocess.TimeoutExpired):
                    try:
                        os.killpg(proc.pid, signal.SIGKILL)
                    except OSError:
                        pass
            shutil.rmtree(tmp, ignore_errors=True)


def serve(args):
    front = Front(args)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(os.path.join(args.certs, "server-cert.pem"),
                        os.path.join(args.certs, "server-key.pem"))
    ctx.load_verify_locations(os.path.join(args.certs, "ca.pem"))
    ctx.verify_mode = ssl.CERT_REQUIRED  # mutual TLS, as dockerd --tlsverify
    # A Go client offers h2 and http/1.1: dockerd answers http/1.1 only.
    ctx.set_alpn_protocols(["http/1.1"])

    class Handler(socketserver.BaseRequestHandler):
        def handle(self):
            try:
                tls = ctx.wrap_socket(self.request, server_side=True)
            except (ssl.SSLError, OSError):
                return
            try:
                front.handle(Conn(tls))
            finally:
                try:
                    tls.close()
                except OSError:
                    pass

    class Server(socketserver.ThreadingTCPServer):
        daemon_threads = True
        allow_reuse_address = True

    host, _, port = args.listen.rpartition(":")
    with Server((host, int(port)), Handler) as srv:
        signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=srv.shutdown).start())
        log(f"{front.name}: {args.persona} on {args.listen} -> {args.backend}")
        srv.serve_forever()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("serve")
    s.add_argument("--listen", required=True)
    s.add_argument("--backend", required=True)
    s.add_argument("--persona", required=True, choices=sorted(PERSONAS))
    s.add_argument("--certs", required=True)
    s.add_argument("--record", required=True)
    s.add_argument("--buildx", required=True)
    s.add_argument("--work")
    s.add_argument("--name")
    sub.add_parser("personas")
    sh = sub.add_parser("show")
    sh.add_argument("name", choices=sorted(PERSONAS))
    args = ap.parse_args()
    if args.cmd == "serve":
        serve(args)
    elif args.cmd == "personas":
        for name, p in PERSONAS.items():
            print(f"{name}\t{p['about']}")
    else:
        print(json.dumps(PERSONAS[args.name], indent=2))


if __name__ == "__main__":
    main()
