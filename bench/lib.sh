# bench/lib.sh: shared helpers for side-by-side benchmarks. Timings are wall-clock medians of N runs.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
KILN=${KILN:-$ROOT/build/kiln}
CACHE=${KILN_BENCH_CACHE:-$ROOT/build/bench-cache}
RUNS=${RUNS:-3}
mkdir -p "$CACHE"

# median_time CMD...: run CMD $RUNS times (with `prepare` before each, if defined), print the median seconds.
median_time() {
  local times=() t0 t1
  for _ in $(seq 1 "$RUNS"); do
    if declare -F prepare >/dev/null; then prepare; fi
    sync
    t0=$(date +%s.%N)
    "$@" >/dev/null 2>&1
    t1=$(date +%s.%N)
    times+=("$(echo "$t1 - $t0" | bc -l)")
  done
  printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {printf "%.3f\n", a[int((NR+1)/2)]}'
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
