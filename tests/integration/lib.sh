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

# free_port: a TCP port of 127.0.0.1 nobody listens on now
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# has_line [GREP OPTIONS] PATTERN: whether a line of stdin matches. Unlike `grep -q` it reads all of stdin: grep -q
# leaves at the first match, and a writer that flushes line by line (tar -tv) then dies of SIGPIPE, which
# pipefail turns into a failure now and then.
has_line() { grep "$@" > /dev/null; }

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

# rootless_user NAME [single]: an ordinary user made for this test, removed at exit with its files and
# processes. It gets a range of its own in /etc/subuid and /etc/subgid, or none with "single".
rootless_user() {
  local u=$1
  if [ ! -f "$WORK/subuid.saved" ]; then
    cp /etc/subuid "$WORK/subuid.saved"; cp /etc/subgid "$WORK/subgid.saved"
    on_exit "cp '$WORK/subuid.saved' /etc/subuid; cp '$WORK/subgid.saved' /etc/subgid"
  fi
  pkill -9 -u "$u" 2>/dev/null || true
  userdel -r "$u" 2>/dev/null || true
  useradd -m -s /bin/sh "$u"
  local uid; uid=$(id -u "$u")
  rm -rf "/tmp/kiln-$uid"
  on_exit "pkill -9 -u $u; userdel -r $u 2>/dev/null; rm -rf /tmp/kiln-$uid"
  sed -i "/^$u:/d; /^$uid:/d" /etc/subuid /etc/subgid
  if [ "${2:-}" != single ]; then
    local start=$(( 1000000 + (uid % 1000) * 65536 ))
    echo "$u:$start:65536" >> /etc/subuid; echo "$u:$start:65536" >> /etc/subgid
  fi
  chmod 755 "$WORK"
  if [ ! -x "$WORK/bin/kiln" ]; then  # the repository may not be readable by others: a copy of kiln
    mkdir -p "$WORK/bin"; cp "$KILN" "$WORK/bin/kiln"; chmod 755 "$WORK/bin" "$WORK/bin/kiln"
  fi
}

# as_user USER CMD...: a command as USER, in a clean environment as a login gives (no XDG_RUNTIME_DIR).
as_user() {
  local u=$1; shift
  setpriv --reuid="$u" --regid="$u" --init-groups env -i HOME="$(getent passwd "$u" | cut -d: -f6)" \
    PATH=/usr/bin:/bin ${SOURCE_DATE_EPOCH:+SOURCE_DATE_EPOCH=$SOURCE_DATE_EPOCH} "$@"
}

# user_kiln USER ARGS...: kiln as USER (see rootless_user).
user_kiln() { local u=$1; shift; as_user "$u" "$WORK/bin/kiln" "$@"; }

# in_cgroup DIR CMD...: CMD (a command or a function) run from the cgroup v2 directory DIR.
in_cgroup() { local dir=$1; shift; (echo $BASHPID > "$dir/cgroup.procs" && "$@"); }

# userns_allowed USER: whether the host lets USER make a user namespace (rootless kiln needs one).
userns_allowed() { as_user "$1" unshare -U true 2>/dev/null; }
