#!/usr/bin/env bash
# kiln unpack --bundle: an image becomes an OCI runtime bundle (rootfs + config.json) by the image spec's
# conversion. The fields the conversion defines match umoci's bundle of the same image; kiln-runtime runs it as the
# image's user, in its working dir, with its env; a passwd link out of the image does not read the host's files;
# an image with nothing to run is one error line and leaves no directory.
source "$(dirname "$0")/lib.sh"
RT=${KILN_RUNTIME:-$(dirname "$KILN")/kiln-runtime}
command -v umoci >/dev/null || fail "umoci is missing (scripts/setup installs it)"
on_exit '"$RT" --root "$WORK/state" delete -f ub1 2>/dev/null || true'

ctx=$WORK/ctx
make_busybox_rootfs "$ctx/root"
printf 'alice:x:1000:1000:Alice:/home/alice:/bin/sh\n' >> "$ctx/root/etc/passwd"
printf 'alice:x:1000:\nstaff:x:50:alice\nwheel:x:10:bob,alice\n' >> "$ctx/root/etc/group"
cat > "$ctx/Dockerfile" <<'DF'
FROM scratch
COPY root /
ENV GREETING="hello world" PATH=/bin
WORKDIR /work
LABEL com.example.k=v org.opencontainers.image.os=from-label
STOPSIGNAL SIGINT
EXPOSE 80 53/udp
USER alice
ENTRYPOINT ["/bin/sh", "-c", "echo $GREETING $HOME; id; pwd; touch /x 2>/dev/null || echo root-ro"]
CMD ["x"]
DF
kiln build -q -t localhost/ub:1 "$ctx" >/dev/null
kiln unpack --bundle localhost/ub:1 "$WORK/b"
[ -x "$WORK/b/rootfs/bin/busybox" ] || fail "the bundle has no rootfs"
kiln save localhost/ub:1 -o "$WORK/img.tar"
mkdir -p "$WORK/layout" && tar -xf "$WORK/img.tar" -C "$WORK/layout"
umoci unpack --image "$WORK/layout:1" "$WORK/u" >/dev/null 2>&1 || fail "umoci unpack"
# The conversion's fields: args, cwd, env (umoci adds TERM for its terminal), the user with its groups, and the
# annotations (a label wins over the field; umoci writes an empty author and lets the field win, against the spec).
python3 - "$WORK/b/config.json" "$WORK/u/config.json" <<'PY' || fail "kiln's bundle config differs from umoci's"
import json, sys
k, u = (json.load(open(p)) for p in sys.argv[1:])
for f in ("args", "cwd", "user"):
    assert k["process"][f] == u["process"][f], (f, k["process"][f], u["process"][f])
assert k["process"]["env"] == [e for e in u["process"]["env"] if not e.startswith("TERM=")], k["process"]["env"]
ka, ua = k["annotations"], u["annotations"]
assert ka["org.opencontainers.image.os"] == "from-label", ka
for a in ("com.example.k", "org.opencontainers.image.architecture", "org.opencontainers.image.created",
          "org.opencontainers.image.exposedPorts", "org.opencontainers.image.stopSignal"):
    assert ka[a] == ua[a], (a, ka[a], ua[a])
assert k["process"]["user"]["additionalGids"] == [50, 10], k["process"]["user"]
assert k["process"]["capabilities"]["effective"] == [] and "CAP_CHOWN" in k["process"]["capabilities"]["bounding"]
assert k["root"] == {"path": "rootfs", "readonly": True} and k["process"]["terminal"] is False
PY
out=$(cd "$WORK/b" && "$RT" --root "$WORK/state" run ub1) || fail "kiln-runtime run of the bundle: $out"
assert_eq "$(echo "$out" | head -1)" "hello world /home/alice" "the image's env and the user's HOME"
echo "$out" | grep -q "uid=1000(alice) gid=1000(alice) groups=10(wheel),50(staff)" || fail "the image's user: $out"
echo "$out" | grep -qx /work || fail "the image's working dir: $out"
echo "$out" | grep -qx root-ro || fail "the bundle's root is writable: $out"
[ ! -e "$WORK/state/ub1" ] || "$RT" --root "$WORK/state" delete ub1

# A numeric user: no group lookups of its own; PATH and HOME are added only where Env lacks them.
printf 'FROM localhost/ub:1\nUSER 1234\nENV PATH=\n' > "$ctx/Dockerfile.num"
kiln build -q -f "$ctx/Dockerfile.num" -t localhost/ub:num "$ctx" >/dev/null
kiln unpack --bundle localhost/ub:num "$WORK/bn"
user_of() { json_get "$1/config.json" 'sorted(j["process"]["user"].items())'; }
assert_eq "$(user_of "$WORK/bn")" "[('gid', 0), ('uid', 1234)]" "numeric user"
json_get "$WORK/bn/config.json" 'j["process"]["env"]' | has_line "'HOME=/'" || fail "no HOME for an unknown uid"

# /etc/passwd a link out of the image to the host's: resolved inside the rootfs (to itself, a loop: no passwd), so
# a user only the host has is not found.
grep -q '^daemon:' /etc/passwd || fail "the host has no daemon user to bait with"
mkdir -p "$ctx/evil/etc"
ln -s ../../../../../../../../etc/passwd "$ctx/evil/etc/passwd"
ln -s /etc/group "$ctx/evil/etc/group"
printf 'FROM localhost/ub:1\nUSER 0\nCOPY evil /\n' > "$ctx/Dockerfile.evil"
kiln build -q -f "$ctx/Dockerfile.evil" -t localhost/ub:evil "$ctx" >/dev/null
kiln unpack --bundle localhost/ub:evil "$WORK/be"
assert_eq "$(user_of "$WORK/be")" "[('gid', 0), ('uid', 0)]" "user through a link"
printf 'FROM localhost/ub:evil\nUSER daemon\n' > "$ctx/Dockerfile.evil2"
kiln build -q -f "$ctx/Dockerfile.evil2" -t localhost/ub:evil2 "$ctx" >/dev/null
expect_fail "unable to find user daemon" kiln unpack --bundle localhost/ub:evil2 "$WORK/be2"
[ ! -e "$WORK/be2" ] || fail "a failed unpack --bundle left its directory"

# Nothing to run: one error line, no directory; an existing directory is refused.
printf 'FROM scratch\nCOPY root /\n' > "$ctx/Dockerfile.none"
kiln build -q -f "$ctx/Dockerfile.none" -t localhost/ub:none "$ctx" >/dev/null
expect_fail "neither an entrypoint nor a command" kiln unpack --bundle localhost/ub:none "$WORK/bx"
[ ! -e "$WORK/bx" ] || fail "a failed unpack --bundle left its directory"
expect_fail "already exists" kiln unpack --bundle localhost/ub:1 "$WORK/b"
echo "test_unpack_bundle: ok"
