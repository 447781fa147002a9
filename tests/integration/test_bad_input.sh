#!/usr/bin/env bash
# Bad input of every kind: one clear error line, non-zero exit, a store that stays fsck-clean.
source "$(dirname "$0")/lib.sh"

make_busybox_rootfs "$WORK/rootfs"
tar -C "$WORK/rootfs" -cf "$WORK/good.tar" .
head -c 100000 "$WORK/good.tar" > "$WORK/truncated.tar"
echo "plain text, not an archive" > "$WORK/garbage.tar"
gzip -c "$WORK/good.tar" > "$WORK/good.tar.gz"; head -c 5000 "$WORK/good.tar.gz" > "$WORK/truncated.tar.gz"
: > "$WORK/empty.tar"

expect_fail "truncated.tar" kiln import "$WORK/truncated.tar" localhost/x:1
expect_fail "garbage.tar" kiln import "$WORK/garbage.tar" localhost/x:1
expect_fail "truncated.tar.gz" kiln import "$WORK/truncated.tar.gz" localhost/x:1
expect_fail "empty.tar" kiln import "$WORK/empty.tar" localhost/x:1
expect_fail "missing.tar" kiln import "$WORK/missing.tar" localhost/x:1
expect_fail "invalid reference" kiln import "$WORK/good.tar" "UPPER/case"
expect_fail "invalid reference" kiln tag localhost/none:1 "bad::tag"
expect_fail "no such image" kiln inspect localhost/none:1
expect_fail "no such image" kiln rmi localhost/none:1
expect_fail "unknown --compression" kiln import --compression lz4 "$WORK/good.tar" localhost/x:1
expect_fail "garbage.tar" kiln load -i "$WORK/garbage.tar"
assert_eq "$(kiln images -q | wc -l)" 0 "nothing tagged by failed commands"
assert_eq "$(ls "$KILN_ROOT/kiln/tmp" | wc -l)" 0 "no temp files left"
assert_eq "$(find "$KILN_ROOT/blobs/sha256" -type f | wc -l)" 0 "no blobs left"
assert_fsck_clean

# A blob whose bytes no longer match its digest: fsck names it, unpack refuses it.
kiln import "$WORK/good.tar" localhost/x:1 >/dev/null
kiln inspect localhost/x:1 > "$WORK/i.json"
layer=$(json_get "$WORK/i.json" 'j[0]["Layers"][0]["Digest"]')
blob=$KILN_ROOT/blobs/sha256/${layer#sha256:}
# Flip every bit of one byte (writing a fixed byte would change nothing once in 256 runs).
python3 -c 'import sys; f = open(sys.argv[1], "r+b"); f.seek(1000); b = f.read(1); f.seek(1000); f.write(bytes([b[0] ^ 0xff]))' "$blob"
rc=0; kiln fsck > "$WORK/fsck.out" 2>/dev/null || rc=$?
[ $rc -ne 0 ] || fail "fsck missed a corrupt blob"
grep -q "$layer" "$WORK/fsck.out" || fail "fsck does not name the corrupt blob"
expect_fail "$layer" kiln unpack localhost/x:1 "$WORK/u"
[ ! -e "$WORK/u" ] || fail "unpack left a partial tree"
kiln rmi localhost/x:1 >/dev/null; kiln gc >/dev/null
assert_fsck_clean

# Malformed JSON and unknown media types in the store are named.
kiln import "$WORK/good.tar" localhost/x:2 >/dev/null
kiln inspect localhost/x:2 > "$WORK/i.json"
python3 - "$KILN_ROOT" "$(json_get "$WORK/i.json" 'j[0]["Digest"]')" <<'PY'
import hashlib, json, sys
root, digest = sys.argv[1], sys.argv[2]
m = json.load(open(f"{root}/blobs/sha256/{digest[7:]}"))
m["layers"][0]["mediaType"] = "application/vnd.example.mystery"
data = json.dumps(m).encode()
h = hashlib.sha256(data).hexdigest()
open(f"{root}/blobs/sha256/{h}", "wb").write(data)
ix = json.load(open(f"{root}/index.json"))
ix["manifests"].append({"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": "sha256:" + h,
                        "size": len(data), "annotations": {"org.opencontainers.image.ref.name": "localhost/x:odd"}})
open(f"{root}/index.json", "w").write(json.dumps(ix))
PY
expect_fail "unsupported layer media type" kiln unpack localhost/x:odd "$WORK/u2"

# A full disk: the import fails with ENOSPC, nothing half-written remains, the store stays clean.
mkdir -p "$WORK/small"
mount -t tmpfs -o size=3m tmpfs "$WORK/small"
on_exit "umount -l '$WORK/small'"
head -c 8000000 /dev/urandom > "$WORK/rootfs/big.bin"
tar -C "$WORK/rootfs" -cf "$WORK/big.tar" .
KILN_ROOT=$WORK/small/store expect_fail "no space left on device" kiln import "$WORK/big.tar" localhost/big:1
assert_eq "$(ls "$WORK/small/store/kiln/tmp" | wc -l)" 0 "temp file left on a full disk"
KILN_ROOT=$WORK/small/store kiln fsck >/dev/null || fail "store on full disk not clean"
