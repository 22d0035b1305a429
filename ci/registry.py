#!/usr/bin/env python3
"""Talk to the test stack's plain-HTTP registry without docker (stdlib only).

Used by ci/stack.sh to seed Windows-like base images and by the end-to-end tests to
check what the tool pushed, independently of the docker CLI.

  registry.py ping HOST                       exit 0 when /v2/ answers
  registry.py seed-base HOST REPO TAG OSVER   push a Windows-layout base + index at TAG
  registry.py inspect REF                     JSON: platforms, configs, layer file lists,
                                              symlinks with their targets
  registry.py cat REF PATH                    the content of the file PATH of the image at REF
  registry.py digest REF [--platform P]       digest of REF (or of its entry for P)
  registry.py delete REF                      delete the manifest REF points to
  registry.py put-list REF DIGEST[=OSVER]...  push an OCI index at REF (a tag) whose entries are
                                              the manifests DIGEST of REF's repository, each
                                              windows/amd64, with os.version OSVER when given
  registry.py tags HOST REPO                  tags of REPO, one per line

REF is HOST/REPO[:TAG|@sha256:…]; HOST is always given (e.g. 127.0.0.1:5000).
"""

import gzip
import hashlib
import io
import json
import sys
import tarfile
import urllib.error
import urllib.parse
import urllib.request

MT_DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
MT_DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
MT_OCI_INDEX = "application/vnd.oci.image.index.v1+json"
MT_OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MT_DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
MT_DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip"
INDEX_TYPES = (MT_DOCKER_LIST, MT_OCI_INDEX)
MANIFEST_TYPES = (MT_DOCKER_MANIFEST, MT_OCI_MANIFEST)
ACCEPT = ", ".join((MT_OCI_INDEX, MT_DOCKER_LIST, MT_OCI_MANIFEST, MT_DOCKER_MANIFEST))
TIMEOUT = 30


class RegistryError(Exception):
    pass


def sha256(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def request(method, url, data=None, headers=None, ok=(200,)):
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=TIMEOUT) as resp:
            return resp.status, resp.headers, resp.read()
    except urllib.error.HTTPError as err:
        body = err.read()
        if err.code in ok:
            return err.code, err.headers, body
        raise RegistryError(
            f"{method} {url}: HTTP {err.code}: {body.decode(errors='replace').strip()}"
        ) from None
    except urllib.error.URLError as err:
        raise RegistryError(f"{method} {url}: {err.reason}") from None


def parse_ref(ref):
    """HOST/REPO[:TAG|@DIGEST] -> (host, repo, tag_or_digest)."""
    host, sep, rest = ref.partition("/")
    if not sep or not rest:
        raise RegistryError(f"reference {ref!r} must be HOST/REPO[:TAG|@DIGEST]")
    if "@" in rest:
        repo, _, reference = rest.partition("@")
    else:
        last = rest.rsplit("/", 1)[-1]
        if ":" in last:
            repo, _, reference = rest.rpartition(":")
        else:
            repo, reference = rest, "latest"
    return host, repo, reference


def base_url(host, repo):
    return f"http://{host}/v2/{repo}"


def get_manifest(host, repo, reference):
    _, headers, body = request(
        "GET", f"{base_url(host, repo)}/manifests/{reference}", headers={"Accept": ACCEPT}
    )
    manifest = json.loads(body)
    media_type = manifest.get("mediaType") or headers.get("Content-Type", "")
    digest = headers.get("Docker-Content-Digest") or sha256(body)
    return manifest, media_type, digest


def get_blob(host, repo, digest):
    _, _, body = request("GET", f"{base_url(host, repo)}/blobs/{digest}")
    if sha256(body) != digest:
        raise RegistryError(f"blob {digest} of {repo}: content does not match its digest")
    return body


def blob_exists(host, repo, digest):
    status, _, _ = request("HEAD", f"{base_url(host, repo)}/blobs/{digest}", ok=(200, 404))
    return status == 200


def push_blob(host, repo, data):
    digest = sha256(data)
    if blob_exists(host, repo, digest):
        return digest
    _, headers, _ = request("POST", f"{base_url(host, repo)}/blobs/uploads/", ok=(202,))
    location = urllib.parse.urljoin(f"http://{host}/", headers["Location"])
    sep = "&" if "?" in location else "?"
    request(
        "PUT",
        f"{location}{sep}digest={urllib.parse.quote(digest)}",
        data=data,
        headers={"Content-Type": "application/octet-stream"},
        ok=(201,),
    )
    return digest


def push_manifest(host, repo, reference, manifest):
    """PUT manifest at reference (a tag), or at its own digest when reference is None."""
    body = json.dumps(manifest, indent=2).encode()
    reference = reference or sha256(body)
    request(
        "PUT",
        f"{base_url(host, repo)}/manifests/{reference}",
        data=body,
        headers={"Content-Type": manifest["mediaType"]},
        ok=(201,),
    )
    return sha256(body), len(body)


def windows_layer(os_version):
    """A layer in Windows layout: Files/ holds the file system, Hives/ the registry."""
    entries = [
        ("Files/", None),
        ("Files/Windows/", None),
        ("Files/Windows/System32/", None),
        ("Files/Windows/System32/fixture-base.txt", f"fixture base {os_version}\r\n".encode()),
        ("Files/License.txt", b"fixture, not Windows\r\n"),
        ("Hives/", None),
        ("Hives/DefaultUser_Delta", b"\0" * 16),
        ("Hives/Sam_Delta", b"\0" * 16),
        ("Hives/Security_Delta", b"\0" * 16),
        ("Hives/Software_Delta", b"\0" * 16),
        ("Hives/System_Delta", b"\0" * 16),
    ]
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, content in entries:
            info = tarfile.TarInfo(name.rstrip("/"))
            info.mtime = 1700000000
            if content is None:
                info.type = tarfile.DIRTYPE
                info.mode = 0o755
                tar.addfile(info)
            else:
                info.size = len(content)
                info.mode = 0o644
                tar.addfile(info, io.BytesIO(content))
    tar_bytes = raw.getvalue()
    gz = io.BytesIO()
    with gzip.GzipFile(fileobj=gz, mode="wb", mtime=0) as out:
        out.write(tar_bytes)
    return tar_bytes, gz.getvalue()


def seed_base(host, repo, tag, os_version):
    tar_bytes, gz_bytes = windows_layer(os_version)
    layer_digest = push_blob(host, repo, gz_bytes)
    config = {
        "architecture": "amd64",
        "os": "windows",
        "os.version": os_version,
        "created": "2023-11-14T22:13:20Z",
        "config": {"Env": [], "Cmd": ["c:\\windows\\system32\\cmd.exe"]},
        "rootfs": {"type": "layers", "diff_ids": [sha256(tar_bytes)]},
        "history": [{"created": "2023-11-14T22:13:20Z", "created_by": "ci/registry.py seed-base"}],
    }
    config_bytes = json.dumps(config, indent=2).encode()
    config_digest = push_blob(host, repo, config_bytes)
    manifest = {
        "schemaVersion": 2,
        "mediaType": MT_DOCKER_MANIFEST,
        "config": {"mediaType": MT_DOCKER_CONFIG, "size": len(config_bytes), "digest": config_digest},
        "layers": [{"mediaType": MT_DOCKER_LAYER, "size": len(gz_bytes), "digest": layer_digest}],
    }
    manifest_digest, manifest_size = push_manifest(host, repo, None, manifest)
    index = {
        "schemaVersion": 2,
        "mediaType": MT_DOCKER_LIST,
        "manifests": [
            {
                "mediaType": MT_DOCKER_MANIFEST,
                "size": manifest_size,
                "digest": manifest_digest,
                "platform": {"architecture": "amd64", "os": "windows", "os.version": os_version},
            }
        ],
    }
    index_digest, _ = push_manifest(host, repo, tag, index)
    print(f"{host}/{repo}:{tag} {index_digest} (windows/amd64 {os_version}: {manifest_digest})")


def layer_paths(blob):
    if blob[:2] == b"\x1f\x8b":
        blob = gzip.decompress(blob)
    elif blob[:4] == b"\x28\xb5\x2f\xfd":
        raise RegistryError("zstd layers are not supported by this stdlib-only helper")
    files, dirs, links = [], [], {}
    with tarfile.open(fileobj=io.BytesIO(blob), mode="r:") as tar:
        for member in tar:
            name = member.name
            while name.startswith("./"):
                name = name[2:]
            name = name.strip("/")
            if not name:
                continue
            (dirs if member.isdir() else files).append(name)
            if member.issym():
                # The target exactly as the layer stores it (buildx rewrites some: #373).
                links[name] = member.linkname
    return files, dirs, links


def describe_image(host, repo, digest, manifest):
    config = json.loads(get_blob(host, repo, manifest["config"]["digest"]))
    layers = []
    for layer in manifest.get("layers", []):
        files, dirs, links = layer_paths(get_blob(host, repo, layer["digest"]))
        layers.append({"digest": layer["digest"], "mediaType": layer.get("mediaType"),
                       "files": files, "dirs": dirs, "links": links})
    return {
        "digest": digest,
        "mediaType": manifest.get("mediaType"),
        "os": config.get("os"),
        "architecture": config.get("architecture"),
        "os.version": config.get("os.version"),
        "labels": (config.get("config") or {}).get("Labels") or {},
        "layers": layers,
        "files": [f for layer in layers for f in layer["files"]],
        "links": {k: v for layer in layers for k, v in layer["links"].items()},
    }


def inspect(ref):
    host, repo, reference = parse_ref(ref)
    manifest, media_type, digest = get_manifest(host, repo, reference)
    out = {"ref": ref, "digest": digest, "mediaType": media_type}
    if media_type in INDEX_TYPES or "manifests" in manifest:
        out["kind"] = "index"
        entries = []
        for desc in manifest.get("manifests", []):
            platform = desc.get("platform") or {}
            entry = {
                "digest": desc["digest"],
                "mediaType": desc.get("mediaType"),
                "platform": {
                    "os": platform.get("os"),
                    "architecture": platform.get("architecture"),
                    "os.version": platform.get("os.version"),
                },
                "annotations": desc.get("annotations") or {},
            }
            if platform.get("os", "unknown") == "unknown" and platform.get("architecture", "unknown") == "unknown":
                entry["attestation"] = True
            else:
                child, _, child_digest = get_manifest(host, repo, desc["digest"])
                entry["image"] = describe_image(host, repo, child_digest, child)
            entries.append(entry)
        out["manifests"] = entries
    elif media_type in MANIFEST_TYPES or "layers" in manifest:
        out["kind"] = "manifest"
        out["image"] = describe_image(host, repo, digest, manifest)
    else:
        raise RegistryError(f"{ref}: unsupported manifest media type {media_type!r}")
    json.dump(out, sys.stdout, indent=2)
    sys.stdout.write("\n")


def cat(ref, path):
    """The content of PATH in the image at REF (the one non-attestation image of an index),
    as its layers leave it: the last layer that has the entry wins."""
    host, repo, reference = parse_ref(ref)
    manifest, media_type, digest = get_manifest(host, repo, reference)
    if media_type in INDEX_TYPES or "manifests" in manifest:
        images = [d for d in manifest.get("manifests", [])
                  if (d.get("platform") or {}).get("os", "unknown") != "unknown"]
        if len(images) != 1:
            raise RegistryError(f"{ref}: {len(images)} images in the index, expected 1")
        manifest, _, _ = get_manifest(host, repo, images[0]["digest"])
    want = path.strip("/")
    found = None
    for layer in manifest.get("layers", []):
        blob = get_blob(host, repo, layer["digest"])
        if blob[:2] == b"\x1f\x8b":
            blob = gzip.decompress(blob)
        with tarfile.open(fileobj=io.BytesIO(blob), mode="r:") as tar:
            for member in tar:
                name = member.name
                while name.startswith("./"):
                    name = name[2:]
                if name.strip("/") == want and member.isfile():
                    found = tar.extractfile(member).read()
    if found is None:
        raise RegistryError(f"{ref}: no file {path}")
    sys.stdout.buffer.write(found)


def digest_of(ref, platform=None):
    host, repo, reference = parse_ref(ref)
    manifest, media_type, digest = get_manifest(host, repo, reference)
    if platform is None:
        return digest
    want = platform.split("/")
    for desc in manifest.get("manifests", []):
        p = desc.get("platform") or {}
        if [p.get("os"), p.get("architecture")] == want[:2]:
            return desc["digest"]
    if "manifests" not in manifest:
        return digest
    raise RegistryError(f"{ref}: no entry for platform {platform}")


def resolve_digest(host, repo, reference):
    if reference.startswith("sha256:"):
        return reference
    _, headers, _ = request(
        "HEAD", f"{base_url(host, repo)}/manifests/{reference}", headers={"Accept": ACCEPT}
    )
    digest = headers.get("Docker-Content-Digest")
    if not digest:
        raise RegistryError(f"{host}/{repo}:{reference}: no Docker-Content-Digest header")
    return digest


def delete(ref):
    host, repo, reference = parse_ref(ref)
    digest = resolve_digest(host, repo, reference)
    request("DELETE", f"{base_url(host, repo)}/manifests/{digest}", ok=(202,))
    print(f"deleted {host}/{repo}@{digest}")


def put_list(ref, entries):
    """A hand-made list, for tests that need a wrong one (old manifest, no os.version, ...)."""
    host, repo, tag = parse_ref(ref)
    manifests = []
    for entry in entries:
        digest, _, os_version = entry.partition("=")
        _, headers, body = request(
            "GET", f"{base_url(host, repo)}/manifests/{digest}", headers={"Accept": ACCEPT}
        )
        if sha256(body) != digest:
            raise RegistryError(f"{repo}@{digest}: content does not match its digest")
        media_type = json.loads(body).get("mediaType") or headers.get("Content-Type", "")
        platform = {"architecture": "amd64", "os": "windows"}
        if os_version:
            platform["os.version"] = os_version
        manifests.append(
            {"mediaType": media_type, "digest": digest, "size": len(body), "platform": platform}
        )
    index = {"schemaVersion": 2, "mediaType": MT_OCI_INDEX, "manifests": manifests}
    digest, _ = push_manifest(host, repo, tag, index)
    print(f"{ref} {digest}")


def tags(host, repo):
    status, _, body = request("GET", f"{base_url(host, repo)}/tags/list", ok=(200, 404))
    if status == 404:
        return
    for tag in sorted(json.loads(body).get("tags") or []):
        print(tag)


def ping(host):
    request("GET", f"http://{host}/v2/")


def main(argv):
    usage = __doc__.strip()
    if not argv or argv[0] in ("-h", "--help"):
        print(usage)
        return 0
    cmd, args = argv[0], argv[1:]
    try:
        if cmd == "ping" and len(args) == 1:
            ping(*args)
        elif cmd == "seed-base" and len(args) == 4:
            seed_base(*args)
        elif cmd == "inspect" and len(args) == 1:
            inspect(*args)
        elif cmd == "cat" and len(args) == 2:
            cat(*args)
        elif cmd == "digest" and len(args) == 1:
            print(digest_of(args[0]))
        elif cmd == "digest" and len(args) == 3 and args[1] == "--platform":
            print(digest_of(args[0], args[2]))
        elif cmd == "delete" and len(args) == 1:
            delete(*args)
        elif cmd == "put-list" and len(args) >= 2:
            put_list(args[0], args[1:])
        elif cmd == "tags" and len(args) == 2:
            tags(*args)
        else:
            print(usage, file=sys.stderr)
            return 2
    except RegistryError as err:
        print(f"registry.py {cmd}: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
