#!/usr/bin/env python3
"""tree.py ARCHIVE [--base BASE.tar]: the flattened file tree and normalized config of the one image in a
docker-archive (docker save) or oci-archive (kiln save), as text to compare.

Tree lines: PATH TYPE MODE UID:GID then, by type, SIZE SHA256 (files), -> TARGET (symlinks), MAJOR,MINOR
(devices), then xattrs. Hard-linked files carry the group of paths they share. Times are left out (BuildKit
and kiln stamp them differently by design); with --base, entries the base tarball has unchanged are left out,
so the listing does not depend on the version of busybox that made the base. The image's history follows, one
line per step after the base's (created_by, "(no layer)" where the step made none, and its comment): it is what
`docker history` shows, and which steps carry a layer."""
import gzip, hashlib, io, json, os, sys, tarfile

try:
    import zstandard  # optional: zstd layers
except ImportError:
    zstandard = None


def open_layer(data):
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    elif data[:4] == b"\x28\xb5\x2f\xfd":
        import subprocess
        data = subprocess.run(["zstd", "-dc"], input=data, capture_output=True, check=True).stdout
    return tarfile.open(fileobj=io.BytesIO(data))


def norm(name):
    while name.startswith("./"):
        name = name[2:]
    name = name.strip("/")
    return name or "."


def read_image(path):
    """(config dict, [layer bytes]) of the archive's only image."""
    with tarfile.open(path) as t:
        members = {norm(m.name): m for m in t.getmembers()}
        def read(n):
            m = members[norm(n)]
            for _ in range(10):  # docker save stores a repeated layer once, the others as symlinks to it
                if not m.issym():
                    break
                base = norm(m.name).rsplit("/", 1)[0] if "/" in norm(m.name) else ""
                m = members[norm(os.path.normpath(os.path.join(base, m.linkname)))]
            return t.extractfile(m).read()
        files = members
        if "manifest.json" in files:  # docker-archive
            m = json.loads(read("manifest.json"))[0]
            return json.loads(read(m["Config"])), [read(l) for l in m["Layers"]]
        index = json.loads(read("index.json"))
        blob = lambda d: read("blobs/" + d["digest"].replace(":", "/"))
        manifest = json.loads(blob(index["manifests"][0]))
        return json.loads(blob(manifest["config"])), [blob(l) for l in manifest["layers"]]


def entry_of(m, data):
    xattrs = sorted((k[len("SCHILY.xattr."):], v) for k, v in m.pax_headers.items() if k.startswith("SCHILY.xattr."))
    e = {"mode": m.mode & 0o7777, "owner": f"{m.uid}:{m.gid}", "xattrs": xattrs}
    if m.isdir():
        e["type"] = "dir"
    elif m.issym():
        e.update(type="symlink", target=m.linkname)
    elif m.islnk():
        e.update(type="hardlink", target=norm(m.linkname))
    elif m.ischr() or m.isblk():
        e.update(type="char" if m.ischr() else "block", dev=f"{m.devmajor},{m.devminor}")
    elif m.isfifo():
        e["type"] = "fifo"
    else:
        e.update(type="file", size=m.size, sha=hashlib.sha256(data).hexdigest()[:16])
    return e


def flatten(layers):
    tree = {}
    for raw in layers:
        t = open_layer(raw)
        members = t.getmembers()
        # Opaque directories hide what lower layers put in them, not what this layer adds.
        for m in members:
            n = norm(m.name)
            base = n.rsplit("/", 1)[-1]
            if base == ".wh..wh..opq":
                d = n.rsplit("/", 1)[0] if "/" in n else "."
                for k in [k for k in tree if d == "." or k.startswith(d + "/")]:
                    del tree[k]
        for m in members:
            n = norm(m.name)
            parent, _, base = n.rpartition("/")
            if base == ".wh..wh..opq":
                continue
            if base.startswith(".wh."):
                gone = (parent + "/" if parent else "") + base[4:]
                for k in [k for k in tree if k == gone or k.startswith(gone + "/")]:
                    del tree[k]
                continue
            data = t.extractfile(m).read() if m.isfile() else b""
            e = entry_of(m, data)
            if e["type"] == "hardlink":
                target = tree.get(e["target"])
                if target is None:
                    e = {"type": "dangling-hardlink", **e}
                else:
                    e = dict(target, mode=target["mode"], links=e["target"])
            if e["type"] != "dir" and n in tree and tree[n]["type"] == "dir":
                for k in [k for k in tree if k.startswith(n + "/")]:
                    del tree[k]
            tree[n] = e
    tree.pop(".", None)
    return tree


def line(path, e):
    s = f"{path} {e['type']} {e['mode']:04o} {e['owner']}"
    if e["type"] == "file":
        s += f" {e['size']} {e['sha']}"
        if "links" in e:
            s += f" linked-to={e['links']}"
    elif e["type"] == "symlink":
        s += f" -> {e['target']}"
    elif e["type"] in ("char", "block"):
        s += f" {e['dev']}"
    for k, v in e["xattrs"]:
        s += f" xattr:{k}={v!r}"
    return s


CONFIG_FIELDS = ["User", "Env", "Entrypoint", "Cmd", "WorkingDir", "Labels", "ExposedPorts", "Volumes", "StopSignal",
                 "Healthcheck", "OnBuild", "Shell", "ArgsEscaped"]


def main():
    args = sys.argv[1:]
    base = None
    if "--base" in args:
        i = args.index("--base")
        base = flatten([open(args[i + 1], "rb").read()])
        del args[i:i + 2]
    config, layers = read_image(args[0])
    tree = flatten(layers)
    out = []
    for p in sorted(tree):
        if base is not None and base.get(p) == tree[p]:
            continue
        out.append(line(p, tree[p]))
    if base is not None:
        out += [f"{p} removed" for p in sorted(base) if p != "." and p not in tree]
    c = config.get("config") or {}
    norm_config = {k: c[k] for k in CONFIG_FIELDS if c.get(k) not in (None, [], {}, "")}
    norm_config["architecture"] = config.get("architecture")
    norm_config["os"] = config.get("os")
    print("\n".join(out))
    print("--- config")
    print(json.dumps(norm_config, indent=1, sort_keys=True))
    print("--- history")
    for h in config.get("history") or []:
        if (h.get("comment") or "").startswith("Imported from"):
            continue  # the base's own entry: docker import and kiln import each write theirs
        print(h.get("created_by", "") + (" (no layer)" if h.get("empty_layer") else "") + "  # " + h.get("comment", ""))


main()
