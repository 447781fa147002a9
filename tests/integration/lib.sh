# lib.sh: helpers for integration tests that drive the real kiln binary. Source it first.
set -euo pipefail

KILN=${KILN:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/build/kiln}
base=${KILN_TEST_WORK:-/tmp}
mkdir -p "$base"
WORK=$(mktemp -d "$base/$(basename "$0" .sh).XXXXXX")
export KILN_ROOT=$WORK/store
_cleanups=()
on_exit() { # run a command when the test ends, whatever happens
  _cleanups+=("$1")
}
_finish() {
  local rc=$?
  for c in "${_cleanups[@]}"; do eval "$c" || true; done
  rm -rf "$WORK"
  if [ $rc -eq 0 ]; then echo "PASS: $(basename "$0")"; else echo "FAIL: $(basename "$0") (exit $rc)"; fi
  exit $rc
}
trap _finish EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }
kiln() { "$KILN" "$@"; }

# expect_fail PATTERN CMD...: the command must fail and its stderr must contain PATTERN (one line).
expect_fail() {
  local pattern=$1; shift
  local err rc=0
  err=$("$@" 2>&1 >/dev/null) || rc=$?
  [ $rc -ne 0 ] || fail "expected failure from: $*"
  echo "$err" | grep -qF -- "$pattern" || fail "error of '$*' lacks '$pattern': $err"
  [ "$(echo "$err" | wc -l)" -le 2 ] || fail "error of '$*' is not one clear line: $err"
}

assert_eq() { [ "$1" = "$2" ] || fail "${3:-values differ}: '$1' != '$2'"; }

# make_busybox_rootfs DIR: a minimal busybox root filesystem from the busybox-static package.
make_busybox_rootfs() {
  local d=$1
  mkdir -p "$d/bin" "$d/etc" "$d/tmp" "$d/root"
  cp /bin/busybox "$d/bin/busybox"
  for app in sh ls cat echo id touch rm mkdir sleep true false env; do ln -sf busybox "$d/bin/$app"; done
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' > "$d/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' > "$d/etc/group"
  chmod 1777 "$d/tmp"
}

# json_get FILE EXPR: evaluate a python expression over the JSON document `j`.
json_get() { python3 -c "import json,sys; j=json.load(open(sys.argv[1])); print($2)" "$1"; }

# store_snapshot: what fsck-cleanliness plus leftovers look like
assert_fsck_clean() {
  kiln fsck >/dev/null || { kiln fsck; fail "fsck is not clean"; }
}
