#!/usr/bin/env bash
# A real Debian build: import an mmdebstrap minbase rootfs (cached in the build folder between runs),
# RUN apt-get install a small package from the Debian mirror, then kiln run the installed program.
source "$(dirname "$0")/lib.sh"
export KILN_RUN_DIR=$WORK/run
command -v mmdebstrap >/dev/null || fail "mmdebstrap is needed (scripts/setup installs it)"

cache=${KILN_TEST_CACHE:-$(dirname "$WORK")/cache}
mkdir -p "$cache"
rootfs=$cache/debian-minbase.tar
if [ ! -s "$rootfs" ]; then
  mmdebstrap --variant=minbase --quiet --format=tar bookworm "$cache/partial.tar" >/dev/null 2>&1 \
    || fail "mmdebstrap could not make a Debian rootfs (is the Debian mirror reachable?)"
  mv "$cache/partial.tar" "$rootfs"
fi
kiln import "$rootfs" localhost/debian:bookworm >/dev/null

mkdir -p "$WORK/ctx"
cat > "$WORK/ctx/Buildfile" <<'BF'
FROM localhost/debian:bookworm
RUN apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends hello python3-minimal \
 && rm -rf /var/lib/apt/lists/*
CMD ["hello"]
BF
kiln build -t localhost/hello:1 "$WORK/ctx" > /dev/null 2> "$WORK/build.err" || { tail -20 "$WORK/build.err"; fail "Debian build failed"; }
assert_eq "$(kiln run localhost/hello:1)" "Hello, world!" "the installed program runs"
out=$(kiln run localhost/hello:1 /bin/sh -c 'dpkg -s hello | grep Status; touch /usr/bin/x 2>&1 || true')
echo "$out" | grep -q "install ok installed" || fail "dpkg does not know the package: $out"
echo "$out" | grep -q "Read-only file system" || fail "the root of a Debian container is writable: $out"
# A Python program's temp file works on the read-only root by default (the tmpfs kiln puts at /tmp).
out=$(kiln run localhost/hello:1 python3 -c 'import tempfile
with tempfile.NamedTemporaryFile() as f:
    f.write(b"x"); f.flush(); print("tempfile", f.name.startswith("/tmp/"))
print("mkdtemp", tempfile.mkdtemp().startswith("/tmp/"))' 2>&1) || fail "python tempfile on a read-only image: $out"
assert_eq "$(echo $out)" "tempfile True mkdtemp True" "python tempfile"
assert_fsck_clean

# Rootless: the same build as an ordinary user. apt drops to its _apt user for downloads, which needs the ids
# of a subuid range; the image's device nodes (mmdebstrap's /dev) cannot be made in a user namespace.
rootless_user kiln-rl-debian
userns_allowed kiln-rl-debian || { echo "note: no unprivileged user namespaces here: the rootless part is skipped"; exit 0; }
chmod -R a+rX "$WORK/ctx"; chmod a+r "$rootfs"
user_kiln kiln-rl-debian import "$rootfs" localhost/debian:bookworm >/dev/null
user_kiln kiln-rl-debian build -t localhost/hello:1 "$WORK/ctx" > /dev/null 2> "$WORK/rl-build.err" \
  || { tail -20 "$WORK/rl-build.err"; fail "rootless Debian build failed"; }
assert_eq "$(user_kiln kiln-rl-debian run localhost/hello:1)" "Hello, world!" "the program installed rootless runs"
assert_eq "$(user_kiln kiln-rl-debian run localhost/hello:1 /bin/sh -c 'stat -c %U /var/cache/apt/archives/partial')" \
  "_apt" "apt's own user owns its download directory in the rootless image"
