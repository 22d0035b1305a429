#!/usr/bin/env python3
"""Checks of ci/front.py without the Docker stack (stdlib and the openssl CLI only): a fake
stand-in answers on a unix socket, a fake `docker` on PATH stands in for the build child, and a
TLS client with a client certificate asks the front what the docker CLI asks a node. Run by
`cargo test` (xtask/tests/front.rs); `python3 ci/front_test.py` alone works too.

What is checked: the persona's /_ping headers (GET and HEAD), /version and /info bodies; the
/vNN/ prefix mapped down; isolation taken out of what reaches the stand-in and recorded;
chunked answers relayed chunk by chunk; an Upgrade request piped both ways; a client without a
certificate refused; a classic POST /build done by the build child, with the request's
X-Registry-Config credentials in the child's private DOCKER_CONFIG and never in the record,
answered as the classic JSON-message stream; a failed build answered with `error`.
"""

import base64
import io
import json
import os
import socket
import socketserver
import ssl
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
import unittest

CI = os.path.dirname(os.path.abspath(__file__))
FRONT = os.path.join(CI, "front.py")

FAKE_DOCKER = r"""#!/usr/bin/env python3
import json, os, sys
# (the front gives its child only PATH, HOME and DOCKER_*: the output folder is found by path)
out = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "out")
argv = sys.argv[1:]
with open(os.path.join(out, "argv.json"), "w") as f:
    json.dump({"argv": argv, "config": open(os.path.join(os.environ["DOCKER_CONFIG"], "config.json")).read(),
               "host": os.environ.get("DOCKER_HOST"), "plugin": os.path.islink(os.path.join(
                   os.environ["DOCKER_CONFIG"], "cli-plugins", "docker-buildx"))}, f)
print("#1 [internal] load build definition")
if "fail=yes" in " ".join(argv):
    print("ERROR: failed to solve: the base is gone")
    sys.exit(1)
iid = argv[argv.index("--iidfile") + 1]
with open(iid, "w") as f:
    f.write("sha256:" + "ab" * 32)
print("#2 DONE 0.1s")
"""


class FakeStandIn(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


def make_backend(path, seen):
    class H(socketserver.StreamRequestHandler):
        def handle(self):
            while True:
                line = self.rfile.readline()
                if not line:
                    return
                method, target, _ = line.decode().split(" ", 2)
                headers = {}
                while True:
                    h = self.rfile.readline().decode()
                    if h in ("\r\n", ""):
                        break
                    k, _, v = h.partition(":")
                    headers[k.strip().lower()] = v.strip()
                body = b""
                if "content-length" in headers:
                    body = self.rfile.read(int(headers["content-length"]))
                seen.append((method, target, headers, body))
                path = target.split("?")[0]
                if headers.get("upgrade"):
                    self.wfile.write(b"HTTP/1.1 101 UPGRADED\r\nConnection: Upgrade\r\n"
                                     b"Upgrade: tcp\r\n\r\n")
                    self.wfile.flush()
                    while True:
                        data = self.request.recv(1024)
                        if not data:
                            return
                        self.request.sendall(data.upper())
                if path == "/_ping":
                    self.wfile.write(b"HTTP/1.1 200 OK\r\nApi-Version: 1.45\r\nOstype: linux\r\n"
                                     b"Builder-Version: 2\r\nContent-Length: 2\r\n\r\n")
                    if method != "HEAD":
                        self.wfile.write(b"OK")
                elif path.endswith("/version") or path.endswith("/info"):
                    doc = {"Os": "linux", "OSType": "linux", "KernelVersion": "6.1.0",
                           "Version": "26.1.5", "ApiVersion": "1.45", "Driver": "overlayfs",
                           "DriverStatus": [["driver-type", "io.containerd.snapshotter.v1"]]}
                    data = json.dumps(doc).encode()
                    self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                                     b"Content-Length: %d\r\n\r\n%s" % (len(data), data))
                elif path.endswith("/push"):
                    self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                                     b"Transfer-Encoding: chunked\r\n\r\n")
                    for part in (b'{"status":"one"}\r\n', b'{"status":"two"}\r\n'):
                        self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
                        self.wfile.flush()
                    self.wfile.write(b"0\r\n\r\n")
                else:
                    self.wfile.write(b"HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\n{}")
                self.wfile.flush()

    return FakeStandIn(path, H)


def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def make_certs(d):
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-days", "2", "-subj", "/CN=test-ca", "-keyout", "ca-key.pem", "-out", "ca.pem",
            "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=d)
    for name, ext in (("server", "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n"),
                      ("client", "extendedKeyUsage=clientAuth\n")):
        with open(os.path.join(d, f"{name}.cnf"), "w") as f:
            f.write(ext)
        openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-subj", f"/CN={name}", "-keyout", f"{name}-key.pem", "-out", f"{name}.csr", cwd=d)
        openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca-key.pem",
                "-CAcreateserial", "-days", "2", "-extfile", f"{name}.cnf",
                "-out", f"{name}-cert.pem", cwd=d)


class FrontTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="front-test-")
        d = cls.tmp.name
        make_certs(d)
        cls.seen = []
        cls.backend = make_backend(os.path.join(d, "standin.sock"), cls.seen)
        threading.Thread(target=cls.backend.serve_forever, daemon=True).start()
        bindir = os.path.join(d, "bin")
        os.mkdir(bindir)
        with open(os.path.join(bindir, "docker"), "w") as f:
            f.write(FAKE_DOCKER)
        os.chmod(os.path.join(bindir, "docker"), 0o755)
        cls.out = os.path.join(d, "out")
        os.mkdir(cls.out)
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        cls.port = s.getsockname()[1]
        s.close()
        cls.record = os.path.join(d, "record.jsonl")
        env = dict(os.environ, PATH=bindir + ":" + os.environ.get("PATH", ""))
        cls.proc = subprocess.Popen(
            [sys.executable, FRONT, "serve", "--listen", f"127.0.0.1:{cls.port}",
             "--backend", os.path.join(d, "standin.sock"), "--persona", "ws2025-docker27",
             "--certs", d, "--record", cls.record, "--buildx", "/bin/false", "--work", d,
             "--name", "test"],
            env=env, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", cls.port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or cls.proc.poll() is not None:
                    raise
                time.sleep(0.05)
        cls.ctx = ssl.create_default_context(cafile=os.path.join(d, "ca.pem"))
        cls.ctx.load_cert_chain(os.path.join(d, "client-cert.pem"),
                                os.path.join(d, "client-key.pem"))

    @classmethod
    def tearDownClass(cls):
        cls.proc.terminate()
        cls.proc.wait(10)
        cls.backend.shutdown()
        cls.tmp.cleanup()

    def connect(self):
        raw = socket.create_connection(("127.0.0.1", self.port), timeout=20)
        return self.ctx.wrap_socket(raw, server_hostname="127.0.0.1")

    def ask(self, method, target, headers=(), body=b"", sock=None):
        s = sock or self.connect()
        head = f"{method} {target} HTTP/1.1\r\nHost: docker\r\n"
        for k, v in headers:
            head += f"{k}: {v}\r\n"
        if body:
            head += f"Content-Length: {len(body)}\r\n"
        s.sendall(head.encode() + b"\r\n" + body)
        f = s.makefile("rb")
        status = f.readline().decode().split(" ", 2)
        hdrs = {}
        while True:
            h = f.readline().decode()
            if h in ("\r\n", ""):
                break
            k, _, v = h.partition(":")
            hdrs[k.strip().lower()] = v.strip()
        data, chunks = b"", []
        if method == "HEAD":
            pass
        elif hdrs.get("transfer-encoding") == "chunked":
            while True:
                size = int(f.readline().split(b";")[0], 16)
                if size == 0:
                    f.readline()
                    break
                chunks.append(f.read(size))
                f.readline()
            data = b"".join(chunks)
        elif "content-length" in hdrs:
            data = f.read(int(hdrs["content-length"]))
        return int(status[1]), hdrs, data, chunks, s

    def records(self):
        with open(self.record) as f:
            return [json.loads(line) for line in f]

    def test_ping_answers_as_the_persona(self):
        for method in ("GET", "HEAD"):
            code, h, body, _, _ = self.ask(method, "/_ping")
            self.assertEqual(code, 200)
            self.assertEqual(h["ostype"], "windows")
            self.assertEqual(h["builder-version"], "1")
            self.assertEqual(h["api-version"], "1.47")
            self.assertEqual(h["docker-experimental"], "false")
            self.assertEqual(body, b"OK" if method == "GET" else b"")

    def test_version_and_info_are_patched_and_the_version_mapped_down(self):
        n = len(self.seen)
        _, _, body, _, s = self.ask("GET", "/v1.47/version")
        v = json.loads(body)
        self.assertEqual(v["Os"], "windows")
        self.assertTrue(v["KernelVersion"].startswith("10.0 26100 "))
        self.assertEqual(v["ApiVersion"], "1.47")
        # keep-alive: a second request on the same connection
        _, _, body, _, _ = self.ask("GET", "/v1.47/info", sock=s)
        i = json.loads(body)
        self.assertEqual((i["OSType"], i["Driver"], i["Isolation"]),
                         ("windows", "windowsfilter", "process"))
        self.assertNotIn("io.containerd.snapshotter.v1", json.dumps(i["DriverStatus"]))
        paths = [t for _, t, _, _ in self.seen[n:]]
        self.assertEqual(paths, ["/v1.45/version", "/v1.45/info"])

    def test_isolation_is_recorded_and_taken_out(self):
        n = len(self.seen)
        code, _, _, _, _ = self.ask("POST", "/v1.47/containers/create?isolation=hyperv&name=x",
                                    headers=[("X-Registry-Auth", "c2VjcmV0LXZhbHVl")],
                                    body=b"{}")
        self.assertEqual(code, 201)
        self.assertEqual(self.seen[n][1], "/v1.45/containers/create?name=x")
        rec = [r for r in self.records() if r["path"] == "/v1.47/containers/create"][-1]
        self.assertEqual(rec["removed"], {"isolation": ["hyperv"]})
        self.assertIn("X-Registry-Auth", rec["headers"])
        with open(self.record) as f:
            self.assertNotIn("c2VjcmV0LXZhbHVl", f.read())

    def test_chunked_answers_stream(self):
        _, h, _, chunks, _ = self.ask("POST", "/v1.47/images/r/x/push?tag=1")
        self.assertEqual(h.get("transfer-encoding"), "chunked")
        self.assertEqual(len(chunks), 2)

    def test_upgrade_is_piped_both_ways(self):
        s = self.connect()
        s.sendall(b"POST /session HTTP/1.1\r\nHost: docker\r\nConnection: Upgrade\r\n"
                  b"Upgrade: h2c\r\n\r\n")
        got = b""
        while b"\r\n\r\n" not in got:
            got += s.recv(1024)
        self.assertTrue(got.startswith(b"HTTP/1.1 101"))
        s.sendall(b"hello")
        echo = b""
        while len(echo) < 5:
            echo += s.recv(1024)
        self.assertEqual(echo, b"HELLO")
        s.close()

    def test_a_client_without_a_certificate_is_refused(self):
        ctx = ssl.create_default_context(cafile=os.path.join(self.tmp.name, "ca.pem"))
        raw = socket.create_connection(("127.0.0.1", self.port), timeout=20)
        with self.assertRaises((ssl.SSLError, OSError)):
            s = ctx.wrap_socket(raw, server_hostname="127.0.0.1")
            s.sendall(b"GET /_ping HTTP/1.1\r\nHost: x\r\n\r\n")
            if not s.recv(1):
                raise OSError("closed")

    def context_tar(self):
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w") as tf:
            for name, data in (("Dockerfile_windows", b"FROM base\nCOPY x /x\n"), ("x", b"x")):
                info = tarfile.TarInfo(name)
                info.size = len(data)
                tf.addfile(info, io.BytesIO(data))
        return buf.getvalue()

    def classic(self, tag, buildargs):
        creds = {"127.0.0.1:5000": {"username": "u", "password": "pw-not-logged"}}
        xrc = base64.urlsafe_b64encode(json.dumps(creds).encode()).decode()
        q = ("t=" + tag + "&dockerfile=Dockerfile_windows&nocache=1&pull=1&isolation=hyperv"
             "&platform=windows%2Famd64&buildargs=" + json.dumps(buildargs).replace(" ", "")
             .replace('"', "%22").replace("{", "%7B").replace("}", "%7D").replace(":", "%3A"))
        return self.ask("POST", "/v1.47/build?" + q,
                        headers=[("X-Registry-Config", xrc),
                                 ("Content-Type", "application/x-tar")],
                        body=self.context_tar())

    def test_a_classic_build_is_done_by_the_child_and_answered_classically(self):
        code, _, _, chunks, _ = self.classic("r/img:1", {"BASEIMAGE": "base"})
        self.assertEqual(code, 200)
        msgs = [json.loads(c) for c in chunks]
        self.assertIn({"aux": {"ID": "sha256:" + "ab" * 32}}, msgs)
        self.assertIn({"stream": "Successfully tagged r/img:1\n"}, msgs)
        with open(os.path.join(self.out, "argv.json")) as f:
            child = json.load(f)
        argv = child["argv"]
        self.assertEqual(argv[:2], ["buildx", "build"])
        for want in ("--no-cache", "--pull", "--provenance=false"):
            self.assertIn(want, argv)
        self.assertEqual(argv[argv.index("--platform") + 1], "windows/amd64")
        self.assertEqual(argv[argv.index("--build-arg") + 1], "BASEIMAGE=base")
        self.assertNotIn("hyperv", " ".join(argv))
        self.assertTrue(child["plugin"])
        auth = json.loads(child["config"])["auths"]["127.0.0.1:5000"]["auth"]
        self.assertEqual(base64.b64decode(auth), b"u:pw-not-logged")
        rec = [r for r in self.records() if r.get("action") == "classic-build"][-1]
        self.assertEqual(rec["build"]["credentials_for"], ["127.0.0.1:5000"])
        self.assertEqual(rec["removed"], {"isolation": ["hyperv"]})
        with open(self.record) as f:
            text = f.read()
        self.assertNotIn("pw-not-logged", text)
        self.assertNotIn(base64.b64encode(b"u:pw-not-logged").decode(), text)
        # the child's private folder is gone
        self.assertEqual([p for p in os.listdir(self.tmp.name) if p.startswith("front-build-")],
                         [])

    def test_a_failed_classic_build_is_answered_with_its_error(self):
        _, _, _, chunks, _ = self.classic("r/img:2", {"fail": "yes"})
        last = json.loads(chunks[-1])
        self.assertIn("error", last, chunks)
        self.assertEqual(last["error"], "failed to solve: the base is gone")


if __name__ == "__main__":
    unittest.main(verbosity=1)
