# bench/lib.sh: shared helpers for side-by-side benchmarks. Timings are wall-clock medians of N runs.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
KILN=${KILN:-$ROOT/build/kiln}
CACHE=${KILN_BENCH_CACHE:-$ROOT/build/bench-cache}
RUNS=${RUNS:-3}
mkdir -p "$CACHE"

# time_once CMD...: run CMD once (after `prepare`, if defined), print the seconds it took.
time_once() {
  local t0 t1
  if declare -F prepare >/dev/null; then prepare; fi
  sync
  t0=$(date +%s.%N)
  "$@" >/dev/null 2>&1
  t1=$(date +%s.%N)
  echo "$t1 - $t0" | bc -l
}

# median X...: the median of the numbers given, to 3 decimals.
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {printf "%.3f\n", a[int((NR+1)/2)]}'; }

# median_time CMD...: run CMD $RUNS times, print the median seconds.
median_time() {
  local times=()
  for _ in $(seq 1 "$RUNS"); do times+=("$(time_once "$@")"); done
  median "${times[@]}"
}

# row LABEL KILN_SECONDS PEER_LABEL PEER_SECONDS: one line of the side-by-side table with the ratio.
row() {
  printf '%-34s kiln %7.3fs   %-22s %7.3fs   ratio %.2f\n' "$1" "$2" "$3" "$4" "$(echo "$2 / $4" | bc -l)"
}

# debian_rootfs: path of a cached mmdebstrap minbase bookworm tarball (about 40 s the first time).
debian_rootfs() {
  local tarball=$CACHE/debian-minbase.tar
  if [ ! -s "$tarball" ]; then
    mmdebstrap --variant=minbase --quiet --format=tar bookworm "$CACHE/partial.tar" >&2
    mv "$CACHE/partial.tar" "$tarball"
  fi
  echo "$tarball"
}

# busybox_image WORK: a busybox rootfs in WORK/rootfs, imported into kiln's store as localhost/true:1 and
# unpacked once (as any later run finds it).
busybox_image() {
  mkdir -p "$1/rootfs/bin" "$1/rootfs/etc"
  cp /bin/busybox "$1/rootfs/bin/"; ln -sf busybox "$1/rootfs/bin/true"; ln -sf busybox "$1/rootfs/bin/sh"
  echo 'root:x:0:0:root:/root:/bin/sh' > "$1/rootfs/etc/passwd"
  tar -C "$1/rootfs" -cf "$1/rootfs.tar" .
  "$KILN" import "$1/rootfs.tar" localhost/true:1 >/dev/null
  "$KILN" run localhost/true:1 /bin/true
}

# true_bundle WORK: WORK/bundle, an OCI bundle of localhost/true:1 (umoci unpack) that runs /bin/true with a
# read-only root, no terminal and no rlimits (the host's nofile limit cannot be raised here).
true_bundle() {
  umoci unpack --image "$KILN_ROOT:localhost/true:1" "$1/bundle" >/dev/null
  python3 - "$1/bundle/config.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c["process"]["args"] = ["/bin/true"]; c["process"]["terminal"] = False; c["process"]["rlimits"] = []
c["root"]["readonly"] = True
json.dump(c, open(sys.argv[1], "w"))
PY
}

# crun_in_cgroup2 DIR SCRIPT: runs the shell SCRIPT in DIR inside a private mount namespace with cgroup2 alone at
# /sys/fs/cgroup (crun refuses this host's hybrid cgroups otherwise).
crun_in_cgroup2() {
  (cd "$1" && unshare -m sh -c "umount -R /sys/fs/cgroup 2>/dev/null; mount -t cgroup2 none /sys/fs/cgroup && $2")
}

# start_dockerd DIR: a private dockerd (BuildKit inside) on DIR/docker.sock, with DOCKER_HOST and DOCKER_BUILDKIT
# exported; stop_dockerd ends it (call it from the script's EXIT trap).
DOCKERD_PID=
start_dockerd() {
  mkdir -p "$1"
  setsid dockerd --iptables=false --ip-masq=false --bridge=none -H "unix://$1/docker.sock" --data-root "$1/root" \
    --exec-root "$1/exec" --pidfile "$1/pid" > "$1/log" 2>&1 < /dev/null &
  DOCKERD_PID=$!
  export DOCKER_HOST=unix://$1/docker.sock DOCKER_BUILDKIT=1
  for _ in $(seq 1 100); do /usr/bin/docker info >/dev/null 2>&1 && return 0; sleep 0.2; done
  echo "dockerd did not start: $(tail -3 "$1/log")" >&2
  return 1
}
stop_dockerd() {
  if [ -n "$DOCKERD_PID" ]; then kill "$DOCKERD_PID" 2>/dev/null; wait "$DOCKERD_PID" 2>/dev/null || true; fi
  DOCKERD_PID=
}

# bk_build ARGS...: `docker build` through BuildKit, no network (there is no bridge here).
bk_build() { /usr/bin/docker build --network=none "$@"; }

# start_registry DIR: the reference registry on a free port of 127.0.0.1, storing in DIR/data; REGISTRY is its
# host:port. stop_registry ends it (call it from the script's EXIT trap).
REGISTRY_PID=
start_registry() {
  local port
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  mkdir -p "$1"
  printf 'version: 0.1\nlog: {level: error}\nstorage: {filesystem: {rootdirectory: %s/data}, delete: {enabled: true}}\nhttp: {addr: 127.0.0.1:%s}\n' \
    "$1" "$port" > "$1/config.yml"
  env -u REGISTRY_AUTH_FILE setsid docker-registry serve "$1/config.yml" > "$1/log" 2>&1 < /dev/null &
  REGISTRY_PID=$!
  REGISTRY=127.0.0.1:$port
  for _ in $(seq 1 100); do curl -s -o /dev/null "http://$REGISTRY/v2/" && return 0; sleep 0.1; done
  echo "the registry did not start: $(tail -3 "$1/log")" >&2
  return 1
}
stop_registry() {
  if [ -n "$REGISTRY_PID" ]; then kill "$REGISTRY_PID" 2>/dev/null; wait "$REGISTRY_PID" 2>/dev/null || true; fi
  REGISTRY_PID=
}

# peak_rss_mb CMD...: run CMD, print its peak resident set in MB (/usr/bin/time -v, its waited-for children too).
peak_rss_mb() {
  /usr/bin/time -v "$@" 2> "$CACHE/rss.$$" >/dev/null || { cat "$CACHE/rss.$$" >&2; return 1; }
  awk -F: '/Maximum resident set size/ {printf "%.0f\n", $2 / 1024}' "$CACHE/rss.$$"
  rm -f "$CACHE/rss.$$"
}
