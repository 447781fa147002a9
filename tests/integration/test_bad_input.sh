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

# An image archive whose index lists nothing is an error, not a silent success.
mkdir -p "$WORK/emptyidx/blobs/sha256"
echo '{"imageLayoutVersion":"1.0.0"}' > "$WORK/emptyidx/oci-layout"
echo '{"schemaVersion":2,"manifests":[]}' > "$WORK/emptyidx/index.json"
tar -C "$WORK/emptyidx" -cf "$WORK/emptyidx.tar" .
expect_fail "holds no image" kiln load -i "$WORK/emptyidx.tar"

# Inputs that once crashed kiln (issue 17): each ends in one error line, never a signal.
crash_case() {  # DESCRIPTION CMD...: fails (not by a signal) with one line, the step lines of a build aside
  local what=$1; shift
  local rc=0; "$@" >/dev/null 2>"$WORK/crash.err" || rc=$?
  [ $rc -ne 0 ] && [ $rc -lt 128 ] || fail "$what: exit $rc: $(head -3 "$WORK/crash.err")"
  [ "$(grep -vc '^\[' "$WORK/crash.err")" -le 1 ] || fail "$what: not one error line: $(head -5 "$WORK/crash.err")"
}
python3 - "$WORK" <<'PY'
import gzip, sys
w = sys.argv[1]
good = gzip.compress(b"x" * 20000, mtime=0)
bad = bytearray(good); bad[20] ^= 0xff; bad[30] ^= 0xff
open(f"{w}/corrupt.tar.gz", "wb").write(bytes(bad))
def bf(name, text):
    import os; os.makedirs(f"{w}/{name}", exist_ok=True); open(f"{w}/{name}/Buildfile", "w").write(text)
bf("argonly", "ARG X\n")
bf("nested", "FROM scratch\nARG a\nENV b=" + "${a:-" * 20000 + "x" + "}" * 20000 + "\n")
bf("doubling", "ARG a0=1\n" + "".join(f"ARG a{i+1}=${{a{i}}}${{a{i}}}\n" for i in range(41)) + "FROM scratch\n")
bf("interval", "FROM scratch\nHEALTHCHECK --interval=. CMD true\n")
bf("bigfrom", "FROM 99999999999999999999999\n")
bf("cacheuid", "FROM scratch\nRUN --mount=type=cache,target=/c,uid=abc true\n")
bf("cachemode", "FROM scratch\nRUN --mount=type=cache,target=/c,mode=zzz true\n")
bf("range", "FROM scratch\nCOPY [z-a] /\n")
bf("ignorerange", "FROM scratch\nCOPY . /\n"); open(f"{w}/ignorerange/.dockerignore", "w").write("[z-a]\n")
PY
crash_case "corrupt gzip" kiln import "$WORK/corrupt.tar.gz" localhost/c:1
for b in argonly nested doubling interval bigfrom cacheuid cachemode range ignorerange; do
  crash_case "Buildfile $b" timeout 120 "$KILN" build "$WORK/$b"
done
kiln import "$WORK/good.tar" localhost/ok:1 >/dev/null
crash_case "--stop-signal" kiln run --rm --stop-signal 99999999999 localhost/ok:1 true
crash_case "kill -s" kiln kill -s 99999999999 nosuch
crash_case "--ulimit" kiln run --rm --ulimit nofile=99999999999999999999999 localhost/ok:1 true
crash_case "-m 1e999" kiln run --rm -m 1e999 localhost/ok:1 true
for flag in -e -h -w --entrypoint; do
  rc=0; kiln run --rm $flag $'/x\xff' localhost/ok:1 true >/dev/null 2>&1 || rc=$?
  [ $rc -lt 128 ] || fail "non-UTF-8 $flag: exit $rc"
done
rc=0; kiln run --rm localhost/ok:1 $'\xff' >/dev/null 2>&1 || rc=$?; [ $rc -lt 128 ] || fail "non-UTF-8 command: exit $rc"
mkdir -p "$WORK/u8" && printf 'FROM localhost/ok:1\nARG A\nLABEL l=$A\n' > "$WORK/u8/Buildfile"
kiln build -q --build-arg A=$'\xff\xfe' --label $'k=\xff' -t localhost/u8:1 "$WORK/u8" >/dev/null || fail "non-UTF-8 build arg and label"
kiln inspect localhost/u8:1 | has_line '"l": "\\ufffd\\ufffd"\|"l": "��"' || fail "non-UTF-8 label not written as U+FFFD"

# A word that is no command: one line naming it, the nearest command when one is close, exit 2 (a usage error).
for pair in "imgaes:images" "bild:build" "pul:pull" "xyzzy:"; do
  word=${pair%%:*} want=${pair#*:}
  rc=0; err=$(kiln "$word" 2>&1 >/dev/null) || rc=$?
  assert_eq $rc 2 "exit code of kiln $word"
  assert_eq "$(echo "$err" | wc -l)" 1 "one line for kiln $word"
  echo "$err" | grep -qF "unknown command \"$word\" for kiln" || fail "kiln $word: $err"
  if [ -n "$want" ]; then echo "$err" | grep -qF "did you mean $want?" || fail "kiln $word suggests: $err"
  else echo "$err" | grep -q "did you mean" && fail "kiln $word suggests something: $err"; fi
done
# A flag a command does not take: one line naming the command, the nearest flag when one is close, exit 2.
for c in "images --digest:unknown flag --digest for kiln images; did you mean --digests? (see kiln images --help)" \
  "build --tga x .:unknown flag --tga for kiln build; did you mean --tag? (see kiln build --help)" \
  "system df --fromat x:unknown flag --fromat for kiln system df; did you mean --format? (see kiln system df --help)" \
  "images -qz:unknown flag -z for kiln images (see kiln images --help)"; do
  args=${c%%:*} want=${c#*:}
  rc=0; err=$(kiln $args 2>&1 >/dev/null) || rc=$?
  assert_eq $rc 2 "exit code of kiln $args"
  assert_eq "$err" "kiln: $want" "kiln $args"
done
kiln version | has_line "^kiln version " || fail "kiln version: $(kiln version)"
kiln version | has_line "OCI image spec" || fail "kiln version lacks the spec versions"
# Global flags after the command, as docker and podman take them; run's and exec's usage name the command.
assert_eq "$(KILN_ROOT=/nonexistent kiln images --root "$KILN_ROOT" -q | sort | head -1)" "$(kiln images -q | sort | head -1)" "--root after the command"
assert_eq "$(KILN_ROOT=/nonexistent kiln run --rm --root "$KILN_ROOT" localhost/ok:1 echo --root x)" "--root x" "--root before the image is kiln's, after it the command's"
kiln run --help | has_line -F "Usage: kiln run [OPTIONS] IMAGE [COMMAND] [ARG...]" || fail "run --help usage: $(kiln run --help | head -2)"
kiln exec --help | has_line -F "Usage: kiln exec [OPTIONS] CONTAINER COMMAND [ARG...]" || fail "exec --help usage"
# kiln info: the store it reads, what it holds, the kernel features kiln relies on.
kiln info > "$WORK/info.out" || fail "kiln info failed"
grep -qF "Store:                $KILN_ROOT" "$WORK/info.out" || fail "info names another store: $(head -1 "$WORK/info.out")"
grep -qE "^  tagged images: +[1-9]" "$WORK/info.out" || fail "info counts no images: $(cat "$WORK/info.out")"
grep -qE "^  overlay filesystem +yes" "$WORK/info.out" || fail "info: overlay: $(cat "$WORK/info.out")"
