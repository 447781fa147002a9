#!/usr/bin/env bash
# Hostile layers: import refuses each (nothing unsafe enters the store that way); one that arrives inside an
# image archive (load, or a pull) is stored as given, and unpack refuses it, names the entry, changes nothing outside.
source "$(dirname "$0")/lib.sh"

outside=$WORK/outside
mkdir -p "$outside/dir"
echo secret > "$outside/secret"

python3 - "$WORK" "$outside" <<'PY'
import io, sys, tarfile
work, outside = sys.argv[1], sys.argv[2]
def mk(name, entries):
    with tarfile.open(f"{work}/{name}.tar", "w", format=tarfile.PAX_FORMAT) as t:
        for kind, path, arg in entries:
            ti = tarfile.TarInfo(path)
            if kind == "file":
                data = arg.encode(); ti.size = len(data); t.addfile(ti, io.BytesIO(data))
            elif kind == "dir":
                ti.type = tarfile.DIRTYPE; ti.mode = 0o755; t.addfile(ti)
            elif kind == "sym":
                ti.type = tarfile.SYMTYPE; ti.linkname = arg; t.addfile(ti)
            elif kind == "hard":
                ti.type = tarfile.LNKTYPE; ti.linkname = arg; t.addfile(ti)
up = "../" * 12
mk("traversal", [("dir", "etc", None), ("file", "../../../../../../.." + outside + "/dir/pwned", "x")])
mk("symlink-parent", [("sym", "evil", up + outside[1:] + "/dir"), ("file", "evil/pwned", "x")])
mk("hardlink-escape", [("hard", "stolen", up + outside[1:] + "/secret")])
mk("absolute-symlink", [("sym", "evil", outside + "/dir"), ("file", "evil/pwned", "x")])

# Each also as a one-layer oci-archive, which kiln load takes as it is.
import hashlib, json, os
def blob(layout, data):
    h = hashlib.sha256(data).hexdigest()
    os.makedirs(f"{layout}/blobs/sha256", exist_ok=True)
    open(f"{layout}/blobs/sha256/{h}", "wb").write(data)
    return {"digest": "sha256:" + h, "size": len(data)}
for name in ["traversal", "symlink-parent", "hardlink-escape", "absolute-symlink"]:
    layer = open(f"{work}/{name}.tar", "rb").read()
    layout = f"{work}/layout-{name}"
    lay = blob(layout, layer)
    cfg = blob(layout, json.dumps({"architecture": "amd64", "os": "linux",
                                   "rootfs": {"type": "layers", "diff_ids": [lay["digest"]]}}).encode())
    man = blob(layout, json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": dict(cfg, mediaType="application/vnd.oci.image.config.v1+json"),
        "layers": [dict(lay, mediaType="application/vnd.oci.image.layer.v1.tar")]}).encode())
    open(f"{layout}/oci-layout", "w").write('{"imageLayoutVersion":"1.0.0"}')
    open(f"{layout}/index.json", "w").write(json.dumps({"schemaVersion": 2, "manifests": [dict(man,
        mediaType="application/vnd.oci.image.manifest.v1+json",
        annotations={"org.opencontainers.image.ref.name": f"localhost/evil:{name}"})]}))
    with tarfile.open(f"{work}/archive-{name}.tar", "w") as t:
        t.add(layout, arcname=".")
PY

for case in traversal:pwned symlink-parent:evil/pwned hardlink-escape:stolen absolute-symlink:evil/pwned; do
  name=${case%%:*} entry=${case#*:}
  expect_fail "refused: the layer would be unsafe" kiln import "$WORK/$name.tar" "localhost/evil:$name"
  expect_fail "no such image" kiln inspect "localhost/evil:$name"
  kiln load -i "$WORK/archive-$name.tar" >/dev/null || fail "load of $name should store it"
  expect_fail "$entry" kiln unpack "localhost/evil:$name" "$WORK/out-$name"
  [ ! -e "$WORK/out-$name" ] || fail "$name: unpack left its half-made target behind"
  [ ! -e "$outside/dir/pwned" ] || fail "$name: wrote outside the target"
  assert_eq "$(cat "$outside/secret")" "secret" "$name: secret untouched"
  assert_eq "$(stat -c %h "$outside/secret")" 1 "$name: no hardlink to the secret"
  assert_eq "$(ls "$outside/dir" | wc -l)" 0 "$name: outside dir untouched"
done
expect_fail "refusing entry" kiln unpack localhost/evil:traversal "$WORK/out-again"
assert_fsck_clean

# A layer whose config lies about its diffID: unpacked layer trees are shared under that diffID, so a first run of
# the liar must not leave its content where an honest image with that diffID (here: loaded after it) finds it.
python3 - "$WORK" <<'PY'
import gzip, hashlib, io, json, os, sys, tarfile
work = sys.argv[1]
def tar(entries):
    b = io.BytesIO()
    with tarfile.open(fileobj=b, mode="w", format=tarfile.PAX_FORMAT) as t:
        for name, data, mode in entries:
            ti = tarfile.TarInfo(name); ti.size = len(data); ti.mode = mode; t.addfile(ti, io.BytesIO(data))
    return b.getvalue()
bb = tar([("bin/busybox", open("/bin/busybox", "rb").read(), 0o755)])
good, evil = tar([("f", b"good\n", 0o644)]), tar([("f", b"EVIL\n", 0o644)])
def image(name, layers, diff_ids):
    layout = f"{work}/layout-{name}"
    def blob(data):
        h = hashlib.sha256(data).hexdigest()
        os.makedirs(f"{layout}/blobs/sha256", exist_ok=True)
        open(f"{layout}/blobs/sha256/{h}", "wb").write(data)
        return {"digest": "sha256:" + h, "size": len(data)}
    lays = [dict(blob(gzip.compress(l, mtime=0)), mediaType="application/vnd.oci.image.layer.v1.tar+gzip")
            for l in layers]
    cfg = blob(json.dumps({"architecture": "amd64", "os": "linux",
                           "config": {"Cmd": ["/bin/busybox", "cat", "/f"]},
                           "rootfs": {"type": "layers",
                                      "diff_ids": ["sha256:" + hashlib.sha256(d).hexdigest() for d in diff_ids]}}).encode())
    man = blob(json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                           "config": dict(cfg, mediaType="application/vnd.oci.image.config.v1+json"),
                           "layers": lays}).encode())
    open(f"{layout}/oci-layout", "w").write('{"imageLayoutVersion":"1.0.0"}')
    open(f"{layout}/index.json", "w").write(json.dumps({"schemaVersion": 2, "manifests": [dict(man,
        mediaType="application/vnd.oci.image.manifest.v1+json",
        annotations={"org.opencontainers.image.ref.name": f"localhost/{name}:1"})]}))
    with tarfile.open(f"{work}/{name}.tar", "w") as t:
        t.add(layout, arcname=".")
image("honest", [bb, good], [bb, good])
image("liar", [bb, evil], [bb, good])
PY
kiln load -i "$WORK/liar.tar" >/dev/null || fail "load of the liar should store it"
kiln load -i "$WORK/honest.tar" >/dev/null || fail "load of the honest image"
expect_fail "its uncompressed content hashes to sha256:" kiln run --rm localhost/liar:1
expect_fail "the image config says sha256:" kiln unpack localhost/liar:1 "$WORK/out-liar"
[ ! -e "$WORK/out-liar" ] || fail "liar: unpack left its half-made target behind"
assert_eq "$(kiln run --rm localhost/honest:1)" "good" "the honest image gets its own layer, not the liar's"
assert_eq "$(ls "$KILN_ROOT/kiln/tmp" 2>/dev/null | wc -l)" 0 "no half-made layer tree left in tmp"
assert_fsck_clean
