#!/usr/bin/env bash
# Escapes and loss of supervision (issue 17): nothing inside a container holds a host fd, a container never
# outlives its kiln (non-root users included), a pid in a state file is never trusted on its word, ids that
# would wrap to root are refused.
source "$(dirname "$0")/lib.sh"
export KILN_RUN_DIR=$WORK/run
logs=$WORK/logs  # beside the run directory

make_busybox_rootfs "$WORK/rootfs"
printf 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/:/bin/sh\n' > "$WORK/rootfs/etc/passwd"
tar -C "$WORK/rootfs" -cf "$WORK/rootfs.tar" .
kiln import "$WORK/rootfs.tar" localhost/sec:1 >/dev/null
img=localhost/sec:1

# wait_gone PATTERN: no process whose command line matches is left within 3 s.
wait_gone() {
  for _ in $(seq 30); do pgrep -f "$1" >/dev/null || return 0; sleep 0.1; done
  pgrep -af "$1"; fail "$2"
}
on_exit "pkill -9 -f 'sleep 7[0-9][0-9][0-9]'"
# Whatever a failed assertion left running: every container of this run directory, and its supervisor.
on_exit "KILN_RUN_DIR='$KILN_RUN_DIR' '$KILN' ps -q | xargs -r env KILN_RUN_DIR='$KILN_RUN_DIR' '$KILN' kill >/dev/null 2>&1"

# --init: pid 1 is a fork of kiln that never execs; even to a container with CAP_SYS_PTRACE it holds nothing
# of the host's (the state file and cgroup directories were open there before).
out=$(kiln run --rm --init --cap-add SYS_PTRACE "$img" /bin/sh -c 'ls /proc/1/fd | sort -n | tr "\n" " "')
assert_eq "$out" "0 1 2 " "--init: pid 1's fds"

# The default seccomp profile is docker's allow list: namespaces (even a user namespace, which needs no
# capability) are refused; with CAP_SYS_ADMIN they are allowed again.
out=$(kiln run --rm "$img" /bin/sh -c '/bin/busybox unshare -U true 2>&1; /bin/busybox unshare -n true 2>&1; true')
[ "$(echo "$out" | grep -c 'Operation not permitted')" -eq 2 ] || fail "unshare not refused by seccomp: $out"
kiln run --rm --cap-add SYS_ADMIN "$img" /bin/busybox unshare -n true || fail "unshare refused with CAP_SYS_ADMIN"

# A non-root container dies with a kill -9 of its kiln: the uid change cleared the parent-death signal.
for user in 1000 app; do
  "$KILN" run -u $user "$img" sleep 7101 & sup=$!
  for _ in $(seq 50); do pgrep -f "^sleep 7101" >/dev/null && break; sleep 0.1; done
  pgrep -f "^sleep 7101" >/dev/null || fail "the container did not start"
  kill -9 $sup; wait $sup 2>/dev/null || true
  wait_gone "sleep 7101" "-u $user: the container outlived its killed kiln"
done
kiln ps >/dev/null
assert_eq "$(ls "$KILN_RUN_DIR" | wc -l)" 0 "state left after kill -9"

# -d: kill -9 of the supervisor ends the container, and what it left (state, log) is cleared.
id=$(kiln run -d -u 1000 "$img" sleep 7102)
[ -f "$logs/$id.log" ] || fail "-d wrote no log"
sup=$(pgrep -f "run -d -u 1000 $img sleep 7102") || fail "no -d supervisor"
kill -9 $sup
wait_gone "sleep 7102" "-d: the container outlived its supervisor"
kiln ps >/dev/null
[ ! -e "$logs/$id.log" ] || fail "-d: the log of a killed supervisor's container was left"
assert_eq "$(ls "$KILN_RUN_DIR" | wc -l)" 0 "-d state left after kill -9"

# A state file that names a host process (as a container that reached it could write): kill, stop and exec
# refuse it, and the host process lives on.
kiln run -d --name victim "$img" sleep 7103 >/dev/null
sleep 7199 & host=$!
state=$(ls "$KILN_RUN_DIR"/*.json)
forge() { python3 - "$state" "$host" "$1" <<'PY'
import json, os, sys
path, pid, how = sys.argv[1], int(sys.argv[2]), sys.argv[3]
j = json.load(open(path))
j["pid"] = pid
if how == "identity":  # the host process's own start time and pid namespace
    j["pid_start"] = int(open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[19])
    j["pidns"] = os.stat(f"/proc/{pid}/ns/pid").st_ino
text = json.dumps(j)
with open(path, "r+") as f:  # in place: the lock lives on this inode
    f.write(text); f.truncate()
PY
}
forge pid
expect_fail "not running" kiln kill victim
expect_fail "not running" kiln exec victim true
forge identity
expect_fail "outside it" kiln kill victim
expect_fail "outside it" kiln stop -t 1 victim
expect_fail "outside it" kiln exec victim true
kill -0 $host || fail "a forged state file made kiln signal a host process"
kill $host
pkill -9 -f "run -d --name victim"; wait_gone "sleep 7103" "victim outlived its supervisor"

# stop and kill go on past a name that fails, and report it (docker's way).
kiln run -d --name one "$img" sleep 7104 >/dev/null
rc=0; out=$(kiln stop -t 1 nosuch one 2>&1) || rc=$?
[ $rc -ne 0 ] || fail "stop of a missing container succeeded"
echo "$out" | grep -q "no such container: nosuch" || fail "stop did not name the missing container: $out"
echo "$out" | grep -qx "one" || fail "stop gave up before the next container: $out"
wait_gone "sleep 7104" "stop left the second container running"

# Ids that would wrap to root (4294967296 is 0 in a uid_t; 4294967295 is -1, "unchanged" to setresuid).
for u in 4294967296 4294967295 0:4294967295 99999999999999999999; do
  expect_fail "ids run from 0 to 4294967294" kiln run --rm -u $u "$img" id -u
done
mkdir -p "$WORK/ctx" && printf 'FROM %s\nUSER 4294967296\n' "$img" > "$WORK/ctx/Buildfile"
kiln build -q -t localhost/wrap:1 "$WORK/ctx" >/dev/null
expect_fail "ids run from 0 to 4294967294" kiln run --rm localhost/wrap:1 id -u
assert_eq "$(kiln run --rm -u 4294967294 "$img" id -u)" 4294967294 "the largest id"

# rmi and gc under a running container: refused, or (-f) untagged with the layers kept until it exits.
kiln tag "$img" localhost/inuse:1
id=$(kiln run -d localhost/inuse:1 sleep 7105)
expect_fail "image is being used by running container ${id:0:12}" kiln rmi localhost/inuse:1
kiln rmi -f localhost/inuse:1 >/dev/null
kiln rmi -f "$img" >/dev/null
assert_eq "$(kiln images -q | wc -l)" 1 "images left after rmi -f (the USER test's)"
kiln gc >/dev/null
assert_eq "$(kiln exec "$id" cat /etc/passwd | head -1)" "root:x:0:0:root:/root:/bin/sh" "the running container's files after rmi -f and gc"
trees=$(ls "$KILN_ROOT/kiln/layers" | wc -l)
[ "$trees" -ge 1 ] || fail "gc removed the layer tree a running container uses"
kiln stop -t 0 "$id" >/dev/null
kiln rmi localhost/wrap:1 >/dev/null
kiln gc >/dev/null
assert_eq "$(ls "$KILN_ROOT/kiln/layers" | wc -l)" 0 "layers kept after the container exited"
assert_fsck_clean

# rmi of an image a running build uses: refused while it runs, allowed once it is done.
kiln import "$WORK/rootfs.tar" localhost/building:1 >/dev/null
mkdir -p "$WORK/slow" && printf 'FROM localhost/building:1\nRUN sleep 3\n' > "$WORK/slow/Buildfile"
"$KILN" build -q "$WORK/slow" >/dev/null 2>&1 & build=$!
for _ in $(seq 50); do [ -n "$(find "$KILN_ROOT/kiln/builds" -type f -size +0 2>/dev/null)" ] && break; sleep 0.1; done
expect_fail "image is being used by a running build" kiln rmi localhost/building:1
wait $build || fail "the slow build failed"
kiln rmi localhost/building:1 >/dev/null || fail "rmi after the build ended"

# A detached container that prints without end fills at most max-size x max-file of the run directory.
kiln import "$WORK/rootfs.tar" localhost/sec:2 >/dev/null
id=$(kiln run -d --log-opt max-size=64k --log-opt max-file=2 localhost/sec:2 sh -c 'while :; do echo 0123456789abcdef0123456789abcdef; done')
for _ in $(seq 50); do [ -e "$logs/$id.log.1" ] && break; sleep 0.1; done
[ -e "$logs/$id.log.1" ] || fail "the log was not rotated"
sleep 0.5
used=$( { cat "$logs/$id.log" "$logs/$id.log.1" 2>/dev/null || true; } | wc -c)  # a rotation may be under way
[ "$used" -le $((2 * 65536)) ] || fail "the log holds $used bytes, over max-size x max-file"
[ ! -e "$logs/$id.log.2" ] || fail "more log files than max-file"
[ "$(kiln logs "$id" | head -c 200000 | wc -c)" -ge 65536 ] || fail "kiln logs does not show the rotated file"
kiln stop -t 0 "$id" >/dev/null
assert_eq "$(ls "$logs" | wc -l)" 0 "logs left after the container was stopped"
expect_fail "unknown --log-opt" kiln run -d --log-opt colour=blue localhost/sec:2 true

# A registry that declares a 10 KiB blob and then sends without end, or a manifest without end: refused as
# soon as the declared size (or 4 MiB) is passed, nothing left in the store's temp directory.
python3 "$(dirname "$0")/fixtures/endless_registry.py" > "$WORK/port" & reg=$!
on_exit "kill $reg"
for _ in $(seq 50); do [ -s "$WORK/port" ] && break; sleep 0.1; done
port=$(cat "$WORK/port")
expect_fail "more than the 10240 bytes the manifest declares" timeout 60 "$KILN" pull -q 127.0.0.1:$port/x/y:1
expect_fail "larger than 4194304 bytes" timeout 60 "$KILN" pull -q 127.0.0.1:$port/x/y:endless-manifest
assert_eq "$(ls "$KILN_ROOT/kiln/tmp" | wc -l)" 0 "temp files left by a refused pull"
