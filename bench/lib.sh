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
