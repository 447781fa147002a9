#!/usr/bin/env bash
# kiln push/pull/login against the reference registry (Debian docker-registry) started here on 127.0.0.1:
# round trips, interop with skopeo both ways, TLS with a test CA + htpasswd, faults, nothing uploaded twice.
source "$(dirname "$0")/lib.sh"
export KILN_RUN_DIR=$WORK/run XDG_RUNTIME_DIR=$WORK/xdg  # auth.json goes to $XDG_RUNTIME_DIR/containers (REGISTRY_* would configure the registry)
command -v docker-registry >/dev/null || fail "docker-registry is needed (scripts/setup installs it)"

# start_registry NAME [auth-yaml] [tls-yaml]: prints nothing; sets REG_PID, REG_PORT, REG_LOG
start_registry() {
  local name=$1 auth=${2:-} tls=${3:-}
  REG_PORT=$(free_port)
  mkdir -p "$WORK/$name"
  {
    echo "version: 0.1"
    echo "log: {level: info, accesslog: {disabled: false}}"
    echo "storage: {filesystem: {rootdirectory: $WORK/$name/data}, delete: {enabled: true}}"
    echo "http: {addr: 127.0.0.1:$REG_PORT$tls}"
    [ -n "$auth" ] && echo "$auth"
  } > "$WORK/$name/config.yml"
  REG_LOG=$WORK/$name/log
  setsid docker-registry serve "$WORK/$name/config.yml" >> "$REG_LOG" 2>&1 < /dev/null &
  REG_PID=$!
  on_exit "kill $REG_PID 2>/dev/null"
  local scheme=http; [ -n "$tls" ] && scheme=https
  for _ in $(seq 1 100); do curl -sk -o /dev/null "$scheme://127.0.0.1:$REG_PORT/v2/" && return 0; sleep 0.1; done
  fail "registry $name did not start: $(tail -3 "$REG_LOG")"
}
digest_of() { kiln inspect "$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["Digest"])'; }

mkdir -p "$XDG_RUNTIME_DIR"
make_busybox_rootfs "$WORK/rootfs"
head -c 3000000 /dev/urandom > "$WORK/rootfs/blob.bin"
tar -C "$WORK/rootfs" -cf "$WORK/rootfs.tar" .
kiln import "$WORK/rootfs.tar" localhost/app:1 >/dev/null
mkdir -p "$WORK/ctx"; printf 'FROM localhost/app:1\nCOPY f /f\nCMD ["cat", "/f"]\n' > "$WORK/ctx/Buildfile"; echo built > "$WORK/ctx/f"
kiln build -q -t localhost/app:2 "$WORK/ctx" >/dev/null
want=$(digest_of localhost/app:2)

# 1. Plain HTTP, no auth: push, pull into an empty store, digests equal; skopeo both ways.
start_registry plain
R=127.0.0.1:$REG_PORT
kiln push -q localhost/app:2 $R/team/app:2 --digestfile "$WORK/pushed"
assert_eq "$(cat "$WORK/pushed")" "$want" "--digestfile"
KILN_ROOT=$WORK/empty kiln pull -q $R/team/app:2 >/dev/null
assert_eq "$(KILN_ROOT=$WORK/empty digest_of $R/team/app:2)" "$want" "pulled digest"
assert_eq "$(KILN_ROOT=$WORK/empty kiln run $R/team/app:2)" "built" "pulled image runs"
# kiln run of an image the store lacks pulls it (in the static kiln, through its dynamic half): stdout is the
# container's alone, the pull shows on stderr; a pull that fails is one line and exit 125.
out=$(KILN_ROOT=$WORK/runpull kiln run $R/team/app:2 2> "$WORK/runpull.err")
assert_eq "$out" "built" "kiln run of a missing image"
grep -q "sha256:" "$WORK/runpull.err" || fail "kiln run showed no pull: $(cat "$WORK/runpull.err")"
# The layers were unpacked while they downloaded (the run found their trees made).
grep -q "downloaded [0-9]* bytes, unpacked" "$WORK/runpull.err" || fail "no layer unpacked while downloading: $(cat "$WORK/runpull.err")"
rc=0; KILN_ROOT=$WORK/runpull kiln run $R/team/nope:1 2> "$WORK/runpull.err" || rc=$?
assert_eq $rc 125 "kiln run of an image no registry has"
assert_eq "$(wc -l < "$WORK/runpull.err")" 1 "one error line: $(cat "$WORK/runpull.err")"
grep -q "pulling it failed.*not found" "$WORK/runpull.err" || fail "run pull error: $(cat "$WORK/runpull.err")"
# Where memfds may not be executed (vm.memfd_noexec=2, set here in a pid namespace of the test's own), the
# static kiln starts its dynamic half from an unnamed temporary file instead: pull and the pull of a run work.
if unshare --pid --fork --mount-proc sh -c 'echo 2 > /proc/sys/vm/memfd_noexec' 2>/dev/null; then
  out=$(KILN_ROOT=$WORK/noexec unshare --pid --fork --mount-proc sh -c \
    'echo 2 > /proc/sys/vm/memfd_noexec && "$0" pull -q "$1" >/dev/null && "$0" run --rm "$1"' "$KILN" $R/team/app:2 2>&1)
  assert_eq "$out" "built" "pull and run with vm.memfd_noexec=2"
  out=$(KILN_ROOT=$WORK/noexec2 unshare --pid --fork --mount-proc sh -c \
    'echo 2 > /proc/sys/vm/memfd_noexec && "$0" run "$1"' "$KILN" $R/team/app:2 2>/dev/null)
  assert_eq "$out" "built" "kiln run pulls with vm.memfd_noexec=2"
else
  echo "  (vm.memfd_noexec cannot be set here: its fallback is not tested)"
fi
skopeo inspect --tls-verify=false docker://$R/team/app:2 > "$WORK/sk.json"
assert_eq "$(json_get "$WORK/sk.json" 'j["Digest"]')" "$want" "skopeo sees kiln's digest"
skopeo copy -q --src-tls-verify=false docker://$R/team/app:2 "oci:$WORK/sklayout:x"
umoci unpack --image "$WORK/sklayout:x" "$WORK/bundle" >/dev/null
assert_eq "$(cat "$WORK/bundle/rootfs/f")" "built" "skopeo-pulled content"
for fmt in v2s2 oci; do
  skopeo copy -q --dest-tls-verify=false --format $fmt "oci:$KILN_ROOT:localhost/app:1" docker://$R/skopeo/$fmt:1
  KILN_ROOT=$WORK/empty kiln pull -q $R/skopeo/$fmt:1 >/dev/null
  skopeo inspect --tls-verify=false docker://$R/skopeo/$fmt:1 > "$WORK/sk-$fmt.json"
  assert_eq "$(KILN_ROOT=$WORK/empty digest_of $R/skopeo/$fmt:1)" "$(json_get "$WORK/sk-$fmt.json" 'j["Digest"]')" "pull of a skopeo $fmt push"
done
KILN_ROOT=$WORK/empty kiln inspect $R/skopeo/v2s2:1 > "$WORK/v2s2.json"
assert_eq "$(json_get "$WORK/v2s2.json" 'j[0]["Manifest"]["mediaType"]')" "application/vnd.docker.distribution.manifest.v2+json" "schema2 kept byte for byte"
KILN_ROOT=$WORK/empty assert_fsck_clean

# 5. A second push uploads nothing.
uploads() { grep -E 'http.request.method=(PUT|PATCH)' "$REG_LOG" | grep -c '/blobs/uploads/' || true; }
before=$(uploads)
[ "$before" -gt 0 ] || fail "the registry log shows no blob uploads for the first push"
kiln push -q localhost/app:2 $R/team/app:2
assert_eq "$(uploads)" "$before" "blob uploads on a second push"
# Cross-repository mounts: blobs kiln pushed to (or pulled from) one repository are mounted into another of
# the same registry, not uploaded again.
kiln push localhost/app:2 $R/other/app:2 2> "$WORK/mount.err"
grep -q "mounted from team/app" "$WORK/mount.err" || fail "no cross-repository mount: $(cat "$WORK/mount.err")"
assert_eq "$(uploads)" "$before" "blob uploads when every blob could be mounted"
KILN_ROOT=$WORK/empty kiln push $R/skopeo/oci:1 $R/copied/oci:1 2> "$WORK/mount2.err"
grep -q "mounted from skopeo/oci" "$WORK/mount2.err" || fail "no mount of pulled blobs: $(cat "$WORK/mount2.err")"
assert_eq "$(skopeo inspect --tls-verify=false docker://$R/copied/oci:1 | python3 -c 'import json,sys; print(json.load(sys.stdin)["Digest"])')" \
  "$(json_get "$WORK/sk-oci.json" 'j["Digest"]')" "digest of a mounted copy"

# An index whose platforms are all in the store (loaded from a multi-platform archive) is pushed whole;
# one pulled from an index holds one platform, and pushes that manifest alone.
python3 - "$WORK/multi.tar" <<'MULTI'
import hashlib, io, json, sys, tarfile
blobs = {}
def add(d):
    h = hashlib.sha256(d).hexdigest(); blobs[h] = d; return {"digest": "sha256:" + h, "size": len(d)}
def layer(text):
    b = io.BytesIO()
    with tarfile.open(fileobj=b, mode="w", format=tarfile.PAX_FORMAT) as t:
        ti = tarfile.TarInfo("arch"); d = text.encode(); ti.size = len(d); t.addfile(ti, io.BytesIO(d))
    return b.getvalue()
manifests = []
for arch in ("amd64", "arm64"):
    l = layer(arch + "\n"); ld = add(l)
    cfg = json.dumps({"architecture": arch, "os": "linux", "rootfs": {"type": "layers", "diff_ids": [ld["digest"]]}}).encode()
    m = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                    "config": dict(add(cfg), mediaType="application/vnd.oci.image.config.v1+json"),
                    "layers": [dict(ld, mediaType="application/vnd.oci.image.layer.v1.tar")]}).encode()
    manifests.append(dict(add(m), mediaType="application/vnd.oci.image.manifest.v1+json", platform={"architecture": arch, "os": "linux"}))
ix = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": manifests}).encode()
top = json.dumps({"schemaVersion": 2, "manifests": [dict(add(ix), mediaType="application/vnd.oci.image.index.v1+json",
                  annotations={"io.containerd.image.name": "localhost/multi:1"})]}).encode()
with tarfile.open(sys.argv[1], "w") as t:
    for name, d in [("oci-layout", b'{"imageLayoutVersion":"1.0.0"}'), ("index.json", top)] + [("blobs/sha256/" + h, d) for h, d in blobs.items()]:
        ti = tarfile.TarInfo(name); ti.size = len(d); t.addfile(ti, io.BytesIO(d))
MULTI
kiln load -i "$WORK/multi.tar" >/dev/null
kiln push -q localhost/multi:1 $R/multi:1 --digestfile "$WORK/multi.digest"
skopeo inspect --raw --tls-verify=false docker://$R/multi:1 > "$WORK/multi.raw"
assert_eq "$(json_get "$WORK/multi.raw" 'len(j["manifests"])')" "2" "platforms in the pushed index"
assert_eq "$(python3 -c 'import hashlib,sys; print("sha256:"+hashlib.sha256(open(sys.argv[1],"rb").read()).hexdigest())' "$WORK/multi.raw")" \
  "$(cat "$WORK/multi.digest")" "the index is pushed byte for byte"
skopeo inspect --raw --tls-verify=false --override-arch arm64 docker://$R/multi:1 >/dev/null
KILN_ROOT=$WORK/one kiln pull -q $R/multi:1 >/dev/null
KILN_ROOT=$WORK/one kiln export $R/multi:1 -o "$WORK/one.tar"
assert_eq "$(tar -xOf "$WORK/one.tar" arch)" "amd64" "the platform picked from the index"
KILN_ROOT=$WORK/one kiln push $R/multi:1 $R/single:1 2> "$WORK/single.err"
grep -q "alone" "$WORK/single.err" || fail "no word that only one platform is pushed: $(cat "$WORK/single.err")"
skopeo inspect --raw --tls-verify=false docker://$R/single:1 > "$WORK/single.raw"
assert_eq "$(json_get "$WORK/single.raw" 'j["mediaType"]')" "application/vnd.oci.image.manifest.v1+json" "one platform pushes a manifest"
# --all-platforms keeps the whole index, so it goes on whole.
KILN_ROOT=$WORK/all kiln pull -q --all-platforms $R/multi:1 >/dev/null
KILN_ROOT=$WORK/all kiln push -q $R/multi:1 $R/multi-copy:1 --digestfile "$WORK/copy.digest"
assert_eq "$(cat "$WORK/copy.digest")" "$(cat "$WORK/multi.digest")" "index digest after pull --all-platforms and push"
KILN_ROOT=$WORK/all assert_fsck_clean
# FROM pulls a missing base; kiln run pulls a missing image.
printf 'FROM %s/team/app:2\nCMD ["cat", "/f"]\n' "$R" > "$WORK/ctx/Buildfile.from"
KILN_ROOT=$WORK/fresh kiln build -q -f "$WORK/ctx/Buildfile.from" -t localhost/child:1 "$WORK/ctx" >/dev/null
assert_eq "$(KILN_ROOT=$WORK/fresh kiln run localhost/child:1)" "built" "FROM pulled its base"
# Registry errors in a user's words: an unknown repository, a missing tag or digest, a registry that is not
# there (the retries counted), a host no DNS knows.
expect_fail "kiln: repository team/nope not found in $R" kiln pull $R/team/nope:1
expect_fail "kiln: tag 404 not found in $R/team/app" kiln pull $R/team/app:404
zero=sha256:$(printf '0%.0s' $(seq 64))
expect_fail "kiln: manifest $zero not found in $R/team/app" kiln pull "$R/team/app@$zero"
dead=127.0.0.1:$(free_port)
expect_fail "kiln: cannot connect to $dead (connection refused) after 4 attempts in " kiln pull $dead/team/app:1
kiln tag localhost/app:2 $dead/team/app:2
expect_fail "kiln: pushing to $dead/team/app:2: cannot connect to $dead (connection refused) after 4 attempts" \
  kiln push $dead/team/app:2
kiln rmi $dead/team/app:2 >/dev/null
expect_fail "kiln: cannot resolve host no-such-registry.invalid" kiln pull no-such-registry.invalid/team/app:1
# registries.conf, read where podman reads it (~/.config/containers/registries.conf before /etc's): a mirror
# serves the pull of a registry that is down; a short name is looked up in unqualified-search-registries, and
# the store finds it by that name afterwards; a blocked registry is refused; a file that is no TOML is one line.
down=127.0.0.1:$(free_port)
mkdir -p "$WORK/home/.config/containers"
cat > "$WORK/home/.config/containers/registries.conf" <<EOF
unqualified-search-registries = ["$R"]
[[registry]]
location = "$down"
[[registry.mirror]]
location = "$R"
[[registry]]
location = "blocked.example.com"
blocked = true
EOF
HOME=$WORK/home KILN_ROOT=$WORK/mirrored kiln pull $down/team/app:2 > /dev/null 2> "$WORK/mirror.err" \
  || fail "pull through a mirror: $(cat "$WORK/mirror.err")"
assert_eq "$(KILN_ROOT=$WORK/mirrored digest_of $down/team/app:2)" "$want" "the image a mirror served"
assert_eq "$(HOME=$WORK/home KILN_ROOT=$WORK/short kiln pull -q team/app:2)" "$R/team/app:2" "a short name's pull"
assert_eq "$(HOME=$WORK/home KILN_ROOT=$WORK/short kiln run team/app:2)" "built" "a short name in the store"
assert_eq "$(HOME=$WORK/home KILN_ROOT=$WORK/shortrun kiln run team/app:2 2>/dev/null)" "built" "run pulls a short name"
HOME=$WORK/home expect_fail "kiln: registry blocked.example.com is blocked in $WORK/home/.config/containers/registries.conf" \
  kiln pull blocked.example.com/team/app:1
echo 'unqualified-search-registries = [' > "$WORK/bad.conf"
CONTAINERS_REGISTRIES_CONF=$WORK/bad.conf expect_fail "$WORK/bad.conf:1: " kiln pull team/app:2

# --log-level debug shows each request with its answer (global flags go after the command too).
KILN_ROOT=$WORK/debugpull kiln pull -q $R/team/app:2 --log-level debug > /dev/null 2> "$WORK/debug.err"
grep -q "^kiln: debug: registry: GET http://$R/v2/team/app/manifests/2: 200 in [0-9]* ms$" "$WORK/debug.err" \
  || fail "no debug line for the manifest: $(cat "$WORK/debug.err")"
# A local registry that speaks plain HTTP is found so by one bare GET /v2/, without a TLS handshake first.
grep -qx "kiln: debug: registry: $R speaks plain HTTP" "$WORK/debug.err" || fail "no plain-HTTP probe: $(cat "$WORK/debug.err")"
grep -q "TLS with\|https://" "$WORK/debug.err" && fail "TLS was tried on a plain-HTTP registry: $(cat "$WORK/debug.err")"
expect_fail "invalid reference" kiln pull "$R/Bad/Name"

# 4a. A registry that lies: a proxy that corrupts blob bodies. The pull is refused; fsck stays clean.
pport=$(free_port)
python3 - "$pport" "$REG_PORT" > "$WORK/proxy.log" 2>&1 <<'PY' &
import http.server, sys, urllib.request
listen, upstream = int(sys.argv[1]), int(sys.argv[2])
class P(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        req = urllib.request.Request(f"http://127.0.0.1:{upstream}{self.path}", headers={k: v for k, v in self.headers.items() if k.lower() != "host"})
        try:
            r = urllib.request.urlopen(req)
            body, status, headers = r.read(), r.status, r.headers
        except urllib.error.HTTPError as e:
            body, status, headers = e.read(), e.code, e.headers
        if "/blobs/" in self.path and len(body) > 1000:
            body = body[:500] + bytes([body[500] ^ 0xff]) + body[501:]
        self.send_response(status)
        for k, v in headers.items():
            if k.lower() not in ("content-length", "transfer-encoding", "connection"): self.send_header(k, v)
        self.send_header("Content-Length", str(len(body))); self.end_headers(); self.wfile.write(body)
    def log_message(self, *a): pass
http.server.HTTPServer(("127.0.0.1", listen), P).serve_forever()
PY
proxy_pid=$!
on_exit "kill $proxy_pid 2>/dev/null"
for _ in $(seq 1 50); do curl -s -o /dev/null "http://127.0.0.1:$pport/v2/" && break; sleep 0.1; done
expect_fail "does not match its digest" env KILN_ROOT=$WORK/lied "$KILN" pull -q 127.0.0.1:$pport/team/app:2
expect_fail "no such image" env KILN_ROOT=$WORK/lied "$KILN" inspect 127.0.0.1:$pport/team/app:2
# kiln run of it unpacks each layer as it arrives: what the digest check then refuses leaves no layer tree, whole
# or partial, and no temp dir.
rc=0; KILN_ROOT=$WORK/lied "$KILN" run --rm 127.0.0.1:$pport/team/app:2 2> "$WORK/lied-run.err" || rc=$?
assert_eq $rc 125 "kiln run of an image whose layer bytes do not check"
grep -q "^kiln: .*does not match its digest" "$WORK/lied-run.err" || fail "lied run: $(cat "$WORK/lied-run.err")"
assert_eq "$(ls "$WORK/lied/kiln/layers" 2>/dev/null | wc -l)" 0 "a layer tree from bytes that did not check"
assert_eq "$(ls "$WORK/lied/kiln/tmp" | wc -l)" 0 "temp files left by a refused pull"
KILN_ROOT=$WORK/lied assert_fsck_clean

# 4b. The registry dies in the middle of a push: a clear error; a second push completes and skips what got there.
head -c 40000000 /dev/urandom > "$WORK/rootfs/big.bin"
tar -C "$WORK/rootfs" -cf "$WORK/big.tar" .
kiln import --compression none "$WORK/big.tar" localhost/big:1 >/dev/null
start_registry dying
D=127.0.0.1:$REG_PORT
"$KILN" push -q localhost/app:2 $D/app:2 >/dev/null
( sleep 0.3; kill -9 $REG_PID ) &
killer=$!
rc=0; "$KILN" push -q localhost/big:1 $D/big:1 2> "$WORK/dying.err" || rc=$?
wait $killer
if [ $rc -ne 0 ]; then
  [ "$(wc -l < "$WORK/dying.err")" -le 2 ] || fail "not one clear error line: $(cat "$WORK/dying.err")"
  grep -q "$D" "$WORK/dying.err" || fail "the error does not name the registry: $(cat "$WORK/dying.err")"
fi
setsid docker-registry serve "$WORK/dying/config.yml" >> "$WORK/dying/log" 2>&1 < /dev/null &
REG_PID=$!; on_exit "kill $REG_PID 2>/dev/null"
for _ in $(seq 1 100); do curl -s -o /dev/null "http://$D/v2/" && break; sleep 0.1; done
kiln push localhost/app:2 $D/app:2 2> "$WORK/second.err"
grep -q "already exists" "$WORK/second.err" || fail "the second push re-uploaded blobs the registry had"
kiln push -q localhost/big:1 $D/big:1
KILN_ROOT=$WORK/big kiln pull -q $D/big:1 >/dev/null
assert_eq "$(KILN_ROOT=$WORK/big digest_of $D/big:1)" "$(digest_of localhost/big:1)" "big image after an interrupted push"
# An upload lost half-way (a proxy forwards half of the body, then drops the connection): kiln asks the registry
# how far it got and goes on from there (or starts that blob over); the pushed image pulls back intact.
fport=$(free_port)
python3 "$(dirname "$0")/fixtures/flaky_proxy.py" "$fport" "${D#*:}" > "$WORK/flaky.log" 2>&1 &
flaky_pid=$!
on_exit "kill $flaky_pid 2>/dev/null"
for _ in $(seq 1 50); do curl -s -o /dev/null "http://127.0.0.1:$fport/v2/" && break; sleep 0.1; done
kiln push -q localhost/big:1 127.0.0.1:$fport/flaky/big:1
KILN_ROOT=$WORK/flaky kiln pull -q $D/flaky/big:1 >/dev/null
assert_eq "$(KILN_ROOT=$WORK/flaky digest_of $D/flaky/big:1)" "$(digest_of localhost/big:1)" "big image pushed through a dropped chunk"
grep -q 'GET /v2/flaky/big/blobs/uploads/' "$WORK/dying/log" || fail "kiln did not ask the registry for the upload's progress"
# A 40 MB layer streams up in one PATCH, then a closing PUT; behind a proxy that refuses bodies over 20 MB
# (413), in 16 MiB chunks. (A registry of their own: the one above has the blob, and would mount it.)
start_registry stream
T=127.0.0.1:$REG_PORT
kiln push -q localhost/big:1 $T/stream/big:1
patches=$(grep 'http.request.method=PATCH' "$REG_LOG" | grep -c '/v2/stream/big/blobs/uploads/' || true)
assert_eq "$patches" 1 "PATCH requests for a 40 MB blob"
start_registry limited
T=127.0.0.1:$REG_PORT
lport=$(free_port)
python3 "$(dirname "$0")/fixtures/flaky_proxy.py" "$lport" "${T#*:}" --max-body 20000000 > "$WORK/limited.log" 2>&1 &
on_exit "kill $! 2>/dev/null"
for _ in $(seq 1 50); do curl -s -o /dev/null "http://127.0.0.1:$lport/v2/" && break; sleep 0.1; done
kiln push -q localhost/big:1 127.0.0.1:$lport/limited/big:1 --log-level debug 2> "$WORK/limited.err" \
  || fail "push behind a body limit: $(cat "$WORK/limited.err")"
grep -q "refused a [0-9]*-byte body; sending chunks of 16777216" "$WORK/limited.err" || fail "no fall back to chunks: $(grep -v registry: "$WORK/limited.err")"
patches=$(grep 'http.request.method=PATCH' "$REG_LOG" | grep -c '/v2/limited/big/blobs/uploads/' || true)
assert_eq "$patches" 3 "16 MiB chunks of a 40 MB blob after a 413"
KILN_ROOT=$WORK/limited kiln pull -q $T/limited/big:1 >/dev/null
assert_eq "$(KILN_ROOT=$WORK/limited digest_of $T/limited/big:1)" "$(digest_of localhost/big:1)" "big image pushed in chunks"

# 2. TLS with a test CA and htpasswd Basic auth: login, push, pull, logout; a wrong password is refused.
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=kiln-test-ca" -keyout "$WORK/ca.key" -out "$WORK/ca.crt" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" -keyout "$WORK/srv.key" -out "$WORK/srv.csr" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1\n' > "$WORK/san.ext"
openssl x509 -req -in "$WORK/srv.csr" -CA "$WORK/ca.crt" -CAkey "$WORK/ca.key" -CAcreateserial -days 2 -extfile "$WORK/san.ext" -out "$WORK/srv.crt" 2>/dev/null
htpasswd -Bbn tester s3cret > "$WORK/htpasswd"
start_registry secure "auth: {htpasswd: {realm: kiln-test, path: $WORK/htpasswd}}" ", tls: {certificate: $WORK/srv.crt, key: $WORK/srv.key}"
S=127.0.0.1:$REG_PORT
mkdir -p "$WORK/certs"; cp "$WORK/ca.crt" "$WORK/certs/ca.crt"
expect_fail "certificate" kiln push localhost/app:2 $S/app:2
echo wrong | expect_fail "wrong username or password" kiln login --cert-dir "$WORK/certs" -u tester --password-stdin $S
expect_fail "kiln login $S" kiln push --cert-dir "$WORK/certs" localhost/app:2 $S/app:2
echo s3cret | kiln login --cert-dir "$WORK/certs" -u tester --password-stdin $S | has_line "Login Succeeded" || fail "login"
kiln push -q --cert-dir "$WORK/certs" localhost/app:2 $S/app:2
KILN_ROOT=$WORK/tls kiln pull -q --cert-dir "$WORK/certs" $S/app:2 >/dev/null
assert_eq "$(KILN_ROOT=$WORK/tls digest_of $S/app:2)" "$want" "TLS + auth pull"
KILN_ROOT=$WORK/tls kiln pull -q --log-level debug --cert-dir "$WORK/certs" $S/app:2 2>&1 >/dev/null |
  grep -qx "kiln: debug: registry: $S does not speak plain HTTP" || fail "the TLS registry was taken for a plain one"
# registries.conf marks the TLS registry insecure: its certificate is then not checked, without a flag.
printf '[[registry]]\nlocation = "%s"\ninsecure = true\n' "$S" > "$WORK/insecure.conf"
CONTAINERS_REGISTRIES_CONF=$WORK/insecure.conf KILN_ROOT=$WORK/tls-insecure kiln pull -q $S/app:2 >/dev/null \
  || fail "an insecure registry of registries.conf was refused"
kiln logout $S | has_line "Removed" || fail "logout"
expect_fail "kiln login $S" env KILN_ROOT=$WORK/tls2 "$KILN" pull --cert-dir "$WORK/certs" $S/app:2

# 3. Bearer tokens: the registry's token mode with a test signing key; a small token server grants pull to
# anyone and push to tester:s3cret. Anonymous pull and authenticated push both work; anonymous push does not.
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=kiln-token" -keyout "$WORK/token.key" -out "$WORK/token.crt" 2>/dev/null
tport=$(free_port)
python3 "$(dirname "$0")/fixtures/token_server.py" "$tport" "$WORK/token.key" kiln-registry kiln-issuer tester s3cret > "$WORK/token.log" 2>&1 &
token_pid=$!
on_exit "kill $token_pid 2>/dev/null"
for _ in $(seq 1 50); do curl -s -o /dev/null "http://127.0.0.1:$tport/token" && break; sleep 0.1; done
start_registry tokens "auth: {token: {realm: \"http://127.0.0.1:$tport/token\", service: kiln-registry, issuer: kiln-issuer, rootcertbundle: $WORK/token.crt}}"
T=127.0.0.1:$REG_PORT
expect_fail "access denied" kiln push localhost/app:2 $T/app:2
echo s3cret | kiln login -u tester --password-stdin $T | has_line "Login Succeeded" || fail "login against the token server"
kiln push -q localhost/app:2 $T/app:2
grep -q "^authed repository:app:pull,push" "$WORK/token.key.requests" || fail "push did not use an authenticated token"
kiln logout $T >/dev/null
KILN_ROOT=$WORK/anon kiln pull -q $T/app:2 >/dev/null
assert_eq "$(KILN_ROOT=$WORK/anon digest_of $T/app:2)" "$want" "anonymous pull with a Bearer token"
grep -q "^anonymous repository:app:pull" "$WORK/token.key.requests" || fail "the pull did not fetch an anonymous token"
assert_fsck_clean

# 5. Rootless: an ordinary user logs in, pushes and pulls; its credentials are its own (no XDG_RUNTIME_DIR:
# ~/.config/containers/auth.json), and what it pulls is what root pushed.
rootless_user kiln-rl-reg
userns_allowed kiln-rl-reg || { echo "note: no unprivileged user namespaces here: the rootless part is skipped"; exit 0; }
home=$(getent passwd kiln-rl-reg | cut -d: -f6)
kiln save -o "$WORK/app2.tar" localhost/app:2; chmod a+r "$WORK/app2.tar"
user_kiln kiln-rl-reg load -i "$WORK/app2.tar" >/dev/null
expect_fail "access denied" user_kiln kiln-rl-reg push localhost/app:2 $T/rootless:2
echo s3cret | user_kiln kiln-rl-reg login -u tester --password-stdin $T | has_line "Login Succeeded" || fail "rootless login"
[ "$(stat -c %U:%a "$home/.config/containers/auth.json")" = "kiln-rl-reg:600" ] || fail "rootless auth.json: $(ls -l "$home/.config/containers/auth.json")"
user_kiln kiln-rl-reg push -q localhost/app:2 $T/rootless:2
user_kiln kiln-rl-reg rmi localhost/app:2 >/dev/null
user_kiln kiln-rl-reg pull -q $T/rootless:2 >/dev/null
assert_eq "$(user_kiln kiln-rl-reg inspect $T/rootless:2 | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["Digest"])')" \
  "$want" "rootless push and pull"
assert_eq "$(user_kiln kiln-rl-reg run $T/rootless:2)" "built" "rootless run of the pulled image"
