#!/usr/bin/env bash
# kiln run for real: read-only root, isolation, limits, exit codes, signals, and nothing left behind.
source "$(dirname "$0")/lib.sh"
export KILN_RUN_DIR=$WORK/run

make_busybox_rootfs "$WORK/rootfs"
printf 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n' > "$WORK/rootfs/etc/passwd"
printf 'root:x:0:\napp:x:1000:\nwheel:x:10:app\n' > "$WORK/rootfs/etc/group"
# For -w to a directory the image lacks: a user's directory, a symlink to /etc, one that climbs past the root.
mkdir -p "$WORK/rootfs/wd-home" && chown 1000:1000 "$WORK/rootfs/wd-home" && chmod 0750 "$WORK/rootfs/wd-home"
ln -s /etc "$WORK/rootfs/wd-link"; ln -s ../../../../.. "$WORK/rootfs/wd-up"
tar -C "$WORK/rootfs" -cf "$WORK/rootfs.tar" .
kiln import "$WORK/rootfs.tar" localhost/probe:1 >/dev/null
img=localhost/probe:1
sh_in() { kiln run "$@"; }

mounts_before=$(grep -c . /proc/self/mountinfo)
cgroups_before=$(find /sys/fs/cgroup -maxdepth 4 -name 'kiln-*' 2>/dev/null | wc -l)
container_cgroups() { find /sys/fs/cgroup -maxdepth 6 -name 'kiln-????????????????' 2>/dev/null | sort; }
container_cgroups > "$WORK/cgroups.before"

# Read-only root: writes to /, /etc, /usr fail with EROFS; a --tmpfs is writable.
out=$(sh_in --tmpfs /scratch "$img" /bin/sh -c '
  for p in /x /etc/x /bin/x /usr; do mkdir -p /usr 2>/dev/null; touch $p 2>&1 || true; done
  echo hi > /scratch/f && cat /scratch/f' 2>&1)
[ "$(echo "$out" | grep -c 'Read-only file system')" -ge 3 ] || fail "root is writable: $out"
echo "$out" | grep -qx hi || fail "--tmpfs not writable: $out"
# docker's flag words in --tmpfs options: noexec stops a copied binary, exec (the default here) runs it.
out=$(sh_in --tmpfs /ne:rw,noexec,size=8m --tmpfs /ex:exec "$img" /bin/sh -c '
  cp /bin/busybox /ne/true; /ne/true 2>/dev/null || echo noexec-refused
  cp /bin/busybox /ex/true; /ex/true && echo exec-ran')
assert_eq "$(echo $out)" "noexec-refused exec-ran" "--tmpfs exec/noexec"

# kiln holds itself to one CPU for the milliseconds of a start; the container keeps the whole mask.
host_cpus=$(grep Cpus_allowed_list /proc/self/status | cut -f2)
assert_eq "$(sh_in "$img" /bin/sh -c 'grep Cpus_allowed_list /proc/self/status' | cut -f2)" "$host_cpus" \
  "the container's CPU mask"

# Masked and read-only /proc paths, /sys read-only.
out=$(sh_in "$img" /bin/sh -c '
  [ -e /proc/timer_list ] && echo "timer_list:$(wc -c < /proc/timer_list)"
  echo "acpi:$(ls /proc/acpi 2>/dev/null | wc -l)"
  (echo 1 > /proc/sys/kernel/domainname) 2>/dev/null || echo procsys-ro
  (echo 1 > /proc/sysrq-trigger) 2>/dev/null || echo sysrq-ro
  touch /sys/x 2>/dev/null || echo sys-ro')
for want in procsys-ro sysrq-ro sys-ro "acpi:0"; do echo "$out" | grep -qx "$want" || fail "missing $want in: $out"; done
if echo "$out" | grep -q '^timer_list:'; then echo "$out" | grep -qx 'timer_list:0' || fail "timer_list not masked: $out"; fi

# --network none (the default): a namespace of its own with lo alone, up; /sys (mounted once the container is
# in that namespace) shows only lo too. --network host sees the host's interfaces.
out=$(sh_in "$img" /bin/sh -c 'ls /sys/class/net | tr "\n" " "; cat /sys/class/net/lo/flags; grep -c : /proc/net/dev
  readlink /proc/self/ns/net')
assert_eq "$(echo $out | cut -d' ' -f1-3)" "lo 0x9 1" "network none: lo alone, up, in /sys and /proc/net"
[ "$(echo "$out" | tail -1)" != "$(readlink /proc/self/ns/net)" ] || fail "network none shares the host's namespace"
out=$(sh_in --network host "$img" /bin/sh -c 'ls /sys/class/net | wc -l; readlink /proc/self/ns/net')
assert_eq "$(echo $out)" "$(ls /sys/class/net | wc -l) $(readlink /proc/self/ns/net)" "network host"

# Capabilities, no_new_privs, seccomp, a blocked syscall.
out=$(sh_in "$img" /bin/sh -c 'grep -E "^(CapEff|CapBnd|CapPrm|CapInh|CapAmb|NoNewPrivs|Seccomp):" /proc/self/status; unshare -m true 2>&1; mount -t tmpfs t /mnt 2>&1; true')
echo "$out" | grep -q "CapEff:.*00000000a80425fb" || fail "CapEff is not docker's default: $out"
echo "$out" | grep -q "CapBnd:.*00000000a80425fb" || fail "CapBnd is not docker's default: $out"
echo "$out" | grep -q "CapInh:.*0000000000000000" || fail "CapInh not empty: $out"
echo "$out" | grep -q "NoNewPrivs:.*1" || fail "no_new_privs off: $out"
echo "$out" | grep -q "Seccomp:.*2" || fail "seccomp off: $out"
echo "$out" | grep -q "unshare.*Operation not permitted" || fail "unshare not EPERM: $out"
echo "$out" | grep -qi "permission denied\|not permitted" || fail "mount not refused: $out"
out=$(sh_in --cap-drop ALL --cap-add KILL "$img" /bin/sh -c 'grep CapEff /proc/self/status')
echo "$out" | grep -q "0000000000000020" || fail "--cap-drop ALL --cap-add KILL: $out"
# Devices: CAP_MKNOD may make any node (as in docker), but only docker's allow list opens, whatever the
# filesystem's mount flags or the seccomp profile: a node for a host disk or loop-control is useless.
out=$(sh_in --security-opt seccomp=unconfined "$img" /bin/sh -c '
  mknod /dev/loopctl c 10 237 && (exec 3</dev/loopctl) 2>/dev/null || echo loop-control-refused
  mknod /dev/disk b 7 0 && (exec 3</dev/disk) 2>/dev/null || echo block-refused
  echo x > /dev/null && head -c 3 /dev/urandom | wc -c')
assert_eq "$(echo $out)" "loop-control-refused block-refused 3" "device allow list"
# The list's edges: refused (EPERM) just outside each allowed group, not refused inside it (a pts node made
# outside devpts fails to open for its own reasons, never EPERM).
out=$(sh_in --security-opt seccomp=unconfined "$img" /bin/sh -c '
  for d in "1 1" "1 4" "1 7" "1 10" "5 1" "5 3" "135 0" "143 5" "144 0"; do
    set -- $d; mknod /dev/t c $1 $2; r=$( (exec 3</dev/t) 2>&1 ); rm /dev/t
    case "$r" in *"not permitted"*) echo "$1:$2=no";; *) echo "$1:$2=ok";; esac
  done')
assert_eq "$(echo $out)" "1:1=no 1:4=no 1:7=ok 1:10=no 5:1=ok 5:3=no 135:0=no 143:5=ok 144:0=no" "device allow list edges"
out=$(sh_in --security-opt seccomp=unconfined "$img" /bin/sh -c 'grep Seccomp: /proc/self/status')
echo "$out" | grep -q "Seccomp:.*0" || fail "seccomp=unconfined: $out"

# pid 1, hostname, env, user and groups, cwd, ulimits, fds.
out=$(sh_in -h box -e FOO=bar -w /etc -u app --ulimit nofile=123:456 "$img" /bin/sh -c '
  echo "pid=$$ host=$(hostname) foo=$FOO home=$HOME cwd=$(pwd)"; id; ulimit -n; ulimit -Hn; ls /proc/self/fd | tr "\n" " "')
echo "$out" | grep -qx "pid=1 host=box foo=bar home=/home/app cwd=/etc" || fail "process setup: $out"
echo "$out" | grep -q "uid=1000(app) gid=1000(app) groups=10(wheel)" || fail "user/groups: $out"
echo "$out" | grep -qx 123 || fail "soft nofile: $out"
echo "$out" | grep -qx 456 || fail "hard nofile: $out"
echo "$out" | grep -qx "0 1 2 3 " || fail "fds other than 0-2 (3 is ls's own): $out"
out=$(sh_in --init "$img" /bin/sh -c 'echo "pid=$$"; cat /proc/1/exe >/dev/null 2>&1 || echo init-exe-hidden')
echo "$out" | grep -qx "pid=2" || fail "--init: $out"
echo "$out" | grep -qx "init-exe-hidden" || fail "--init: /proc/1/exe reachable: $out"

# Exit codes: the command's own, 125/126/127 for failures before it runs.
rc=0; sh_in "$img" /bin/sh -c 'exit 42' || rc=$?; assert_eq $rc 42 "exit code"
rc=0; sh_in --init "$img" /bin/sh -c 'kill -USR1 $$' || rc=$?; assert_eq $rc 138 "signal exit code through --init"
rc=0; sh_in "$img" nosuchcmd 2>/dev/null || rc=$?; assert_eq $rc 127 "not found"
rc=0; sh_in "$img" /etc/passwd 2>/dev/null || rc=$?; assert_eq $rc 126 "not executable"
rc=0; kiln run --name early localhost/missing:1 true 2>/dev/null || rc=$?; assert_eq $rc 125 "unknown image"
# The state file, name and cgroup were made while the image was looked up: a failed lookup undoes them.
assert_eq "$(ls -A "$KILN_RUN_DIR" "$KILN_RUN_DIR/.names" | grep -c -e '\.json$' -e '^early$')" 0 "state or name left by a failed lookup"
assert_eq "$(find /sys/fs/cgroup -maxdepth 4 -name 'kiln-*' 2>/dev/null | wc -l)" "$cgroups_before" "cgroup left by a failed lookup"
# A flag run does not know, before the image, is docker's "unknown flag"; after the image it is the command's.
rc=0; kiln run --bogus -e A=1 "$img" true 2> "$WORK/flag.err" || rc=$?; assert_eq $rc 125 "unknown flag"
grep -q 'unknown flag: --bogus' "$WORK/flag.err" || fail "unknown flag: $(cat "$WORK/flag.err")"
assert_eq "$(kiln run -eX=1 -w / "$img" /bin/echo --bogus -e x)" "--bogus -e x" "flags after the image"

# -w to a directory the image lacks is made, as docker makes it: root-owned 0755, the root still read-only, the
# directories on the way as the image has them; through an image's symlink inside the root, never out of it.
out=$(sh_in -w /srv/new/deep "$img" /bin/sh -c 'pwd; /bin/busybox stat -c "%a:%u" /srv /srv/new /srv/new/deep
  touch x 2>&1 | grep -c "Read-only"')
assert_eq "$(echo $out)" "/srv/new/deep 755:0 755:0 755:0 1" "-w to a missing directory"
out=$(sh_in -w /wd-home/work "$img" /bin/busybox stat -c "%a:%u:%g" /wd-home /wd-home/work)
assert_eq "$(echo $out)" "750:1000:1000 755:0:0" "-w below an existing directory keeps its owner and mode"
assert_eq "$(sh_in -w /wd-link/sub "$img" /bin/sh -c 'ls -d /etc/sub; ls /etc | grep -c passwd')" "$(printf '/etc/sub\n1')" \
  "-w through a symlink in the image"
assert_eq "$(sh_in -w /wd-up/escape "$img" /bin/sh -c 'ls -d /escape')" "/escape" "-w through a climbing symlink"
[ ! -e /escape ] || fail "-w through a symlink made a directory on the host"
assert_eq "$(sh_in "$img" /bin/sh -c 'ls -d /srv /escape 2>&1 | grep -c "No such"')" "2" "-w leaves the image as it was"
assert_eq "$(sh_in -w /srv/../srv2/./x/ "$img" /bin/sh -c pwd)" "/srv2/x" "-w is cleaned as docker cleans it"
code=0; out=$(sh_in -w relative "$img" /bin/true 2>&1) || code=$?
assert_eq "$code" "125" "-w relative"
echo "$out" | grep -q "needs to be an absolute path" || fail "-w relative: $out"
code=0; out=$(sh_in -w /bin/sh/x "$img" /bin/true 2>&1) || code=$?
assert_eq "$code" "125" "-w below a file"
echo "$out" | grep -q 'working directory "/bin/sh/x": Not a directory' || fail "-w below a file: $out"
# As docker parses it: "--" before the image ends run's flags; after the image it is the command itself.
assert_eq "$(kiln run -e X=1 -- "$img" /bin/sh -c 'echo $X')" "1" "-- before the image"
assert_eq "$(kiln run "$img" /bin/echo a -- b)" "a -- b" "-- among the command's arguments"
# /dev has runc's links, /dev/core only where the kernel has /proc/kcore (never dangling).
assert_eq "$(kiln run "$img" /bin/sh -c 'for l in fd stdin stdout stderr ptmx; do [ -L /dev/$l ] || echo "no /dev/$l"; done
  [ -L /dev/core ] && [ ! -e /proc/kcore ] && echo "/dev/core dangles"; true')" "" "the links of /dev"
rc=0; kiln run "$img" -- /bin/echo x 2>/dev/null || rc=$?; assert_eq $rc 127 "-- as the command (docker runs it)"
# docker flags kiln lacks on purpose say what to do instead; --read-only is what kiln always is.
rc=0; kiln run --expose 80 "$img" true 2> "$WORK/flag.err" || rc=$?; assert_eq $rc 125 "--expose"
grep -q -- '--expose: kiln adds no EXPOSE at run time: publish the port with -p' "$WORK/flag.err" || fail "--expose: $(cat "$WORK/flag.err")"
expect_fail "kiln does not run privileged containers" kiln run --privileged "$img" true
out=$(kiln run --read-only "$img" /bin/sh -c 'touch /x 2>&1' || true)
echo "$out" | grep -q 'Read-only file system' || fail "--read-only: $out"
# --add-host, --dns, --dns-search shape the generated /etc files; bad values fail before the start.
out=$(kiln run --add-host db:10.0.0.5 --add-host v6=::1 --dns 192.0.2.53 --dns-search corp.example "$img" \
  /bin/sh -c 'cat /etc/hosts /etc/resolv.conf')
echo "$out" | grep -qx "$(printf '10.0.0.5\tdb')" || fail "--add-host: $out"
echo "$out" | grep -qx "$(printf '::1\tv6')" || fail "--add-host v6: $out"
echo "$out" | grep -qx "nameserver 192.0.2.53" || fail "--dns: $out"
echo "$out" | grep -qx "search corp.example" || fail "--dns-search: $out"
expect_fail 'invalid --add-host "db"' kiln run --add-host db "$img" true
expect_fail 'invalid --dns "resolver"' kiln run --dns resolver "$img" true
expect_fail "kiln runs linux/amd64 images only" kiln run --platform linux/arm64 "$img" true
# --cidfile: written for a container that starts, refused when it exists, gone when the start fails.
kiln run --cidfile "$WORK/cid" "$img" true
[[ $(cat "$WORK/cid") =~ ^[0-9a-f]{64}$ ]] || fail "--cidfile: $(cat "$WORK/cid")"
expect_fail "--cidfile $WORK/cid exists" kiln run --cidfile "$WORK/cid" "$img" true
rm "$WORK/cid"; rc=0; kiln run --cidfile "$WORK/cid" "$img" nosuchcmd 2>/dev/null || rc=$?
assert_eq "$rc:$(ls "$WORK/cid" 2>/dev/null)" "127:" "--cidfile after a failed start"
rc=0; kiln run -v /no/such/dir:/x "$img" true 2>/dev/null || rc=$?; assert_eq $rc 125 "missing volume source"
expect_fail "bind source path does not exist" kiln run -v /no/such/dir:/x "$img" true
expect_fail "/proc" kiln run --tmpfs /proc/x "$img" true
expect_fail "unknown capability" kiln run --cap-add BOGUS "$img" true

# Where clone3 is refused (an older kernel, an engine's seccomp profile older than clone3), the start falls back
# to clone and a cgroup.procs write: the container runs, in its cgroup, with its limits, and -t and exec work.
cc -O2 -o "$WORK/without_clone3" "$(dirname "$0")/fixtures/without_clone3.c" || fail "cc without_clone3.c"
"$WORK/without_clone3" --check || fail "the clone3 filter does not hold"
out=$("$WORK/without_clone3" "$KILN" run --pids-limit 20 "$img" /bin/sh -c 'cat /sys/fs/cgroup/pids.max 2>/dev/null || echo v1; echo ran-without-clone3' 2>&1) ||
  fail "kiln run without clone3: $out"
echo "$out" | grep -q ran-without-clone3 || fail "kiln run without clone3: $out"
rc=0; "$WORK/without_clone3" "$KILN" run -m 32m "$img" /bin/sh -c 'x=$(head -c 200000000 /dev/zero | tr "\0" a); echo survived' >/dev/null 2>&1 || rc=$?
assert_eq $rc 137 "memory limit without clone3"

# podman's --read-only-tmpfs, on by default: /tmp, /var/tmp and /run are writable tmpfs (nosuid, nodev) on the
# read-only root; a --tmpfs of the user's own takes the place; =false leaves them read-only; --read-only=false is
# refused with a line that says why.
out=$(sh_in "$img" /bin/sh -c 'touch /tmp/a /var/tmp/b /run/c && echo scratch-writable; grep -E " /(tmp|var/tmp|run) " /proc/mounts | grep -c "nosuid,nodev"; touch /etc/x 2>/dev/null || echo root-ro')
assert_eq "$(echo $out)" "scratch-writable 3 root-ro" "default tmpfs at /tmp, /var/tmp, /run"
assert_eq "$(sh_in --tmpfs /tmp:size=1m "$img" /bin/sh -c 'grep " /tmp " /proc/mounts | grep -o size=1024k')" size=1024k "--tmpfs /tmp replaces the default"
rc=0; sh_in --read-only-tmpfs=false "$img" /bin/sh -c 'touch /tmp/a' 2>/dev/null || rc=$?
assert_eq $rc 1 "--read-only-tmpfs=false leaves /tmp read-only"
expect_fail "--read-only=false: a kiln container's root is always read-only" kiln run --read-only=false "$img" true
sh_in --read-only "$img" /bin/true || fail "--read-only is accepted"

# Limits: memory kills an allocator (137), pids stops a fork loop.
rc=0; sh_in --name oom-probe -m 32m "$img" /bin/sh -c 'x=$(head -c 200000000 /dev/zero | tr "\0" a); echo survived' >/dev/null 2>"$WORK/oom.err" || rc=$?
assert_eq $rc 137 "memory limit"
grep -qx "kiln: container oom-probe was killed: out of memory (limit 32MiB)" "$WORK/oom.err" || fail "no out-of-memory line: $(cat "$WORK/oom.err")"
rc=0; sh_in -m 32m "$img" /bin/sh -c 'kill -9 $$ & wait; exit 3' 2>"$WORK/nooom.err" || rc=$?
grep -q "out of memory" "$WORK/nooom.err" && fail "an exit without an OOM kill was told as one: $(cat "$WORK/nooom.err")"
out=$(sh_in --pids-limit 8 "$img" /bin/sh -c 'for i in 1 2 3 4 5 6 7 8 9 10 11 12; do sleep 5 & done; echo all-started' 2>&1 || true)
echo "$out" | grep -q "can't fork\|Resource temporarily unavailable" || fail "pids limit did not stop forks: $out"
echo "$out" | grep -q "all-started" && fail "12 processes started under --pids-limit 8"

# Signals are forwarded; the container's handler decides the exit code.
"$KILN" run "$img" /bin/sh -c 'trap "echo got-term; exit 3" TERM; while :; do sleep 0.1; done' > "$WORK/sig.out" 2>&1 &
kpid=$!
sleep 0.5; kill -TERM $kpid
rc=0; wait $kpid || rc=$?
assert_eq $rc 3 "exit code after forwarded SIGTERM"
grep -q got-term "$WORK/sig.out" || fail "SIGTERM not forwarded"

# Volumes: ro bind, hostile symlinks in the image do not redirect mounts to the host.
mkdir -p "$WORK/vol"; echo data > "$WORK/vol/file"
out=$(sh_in -v "$WORK/vol:/data:ro" "$img" /bin/sh -c 'cat /data/file; echo x > /data/new 2>&1 || echo ro-ok')
echo "$out" | grep -qx data || fail "volume content: $out"
echo "$out" | grep -qx ro-ok || fail "ro volume writable: $out"
# Under /dev (a file, a directory, and /dev/shm's own directory), as docker binds there.
out=$(sh_in -v "$WORK/vol/file:/dev/vfile:ro" -v "$WORK/vol:/dev/vdir" -v "$WORK/vol/file:/dev/shm/f" "$img" \
  /bin/sh -c 'cat /dev/vfile /dev/vdir/file /dev/shm/f; ls /dev/null >/dev/null && echo null-ok')
assert_eq "$out" "$(printf 'data\ndata\ndata\nnull-ok')" "volumes under /dev"
mkdir -p "$WORK/evil/bin" "$WORK/evil/etc"; cp /bin/busybox "$WORK/evil/bin/"; ln -s busybox "$WORK/evil/bin/sh"
ln -s /proc/1/root/etc/shadow "$WORK/evil/etc/hosts"; ln -s / "$WORK/evil/tmp"; ln -s "$WORK/hostdir" "$WORK/evil/data"
mkdir -p "$WORK/hostdir"
# /proc, /dev and /sys of the image pointing at the host: kiln's own mountpoints shadow them.
for d in proc dev sys; do mkdir -p "$WORK/hostmnt/$d"; ln -s "$WORK/hostmnt/$d" "$WORK/evil/$d"; done
tar -C "$WORK/evil" -cf "$WORK/evil.tar" .
kiln import "$WORK/evil.tar" localhost/evil:1 >/dev/null
out=$(kiln run -v "$WORK/vol:/data/mnt" --tmpfs /tmp localhost/evil:1 /bin/sh -c 'cat /etc/hosts; ls /data/mnt; echo t > /tmp/t && echo tmp-ok')
echo "$out" | grep -q "127.0.0.1.*localhost" || fail "/etc/hosts followed the image's symlink: $out"
echo "$out" | grep -qx file || fail "volume under a symlinked dir: $out"
assert_eq "$(ls "$WORK/hostdir" | wc -l)" 0 "a mount or write reached the host through /data"
[ ! -e /t ] || fail "/tmp -> / in the image let a write reach the host"
out=$(kiln run localhost/evil:1 /bin/sh -c 'ls /proc/self/fd >/dev/null && echo proc-ok; echo x > /dev/null && echo dev-ok
  ls /sys/kernel >/dev/null && echo sys-ok')
assert_eq "$(echo $out)" "proc-ok dev-ok sys-ok" "/proc, /dev, /sys over the image's symlinks"
assert_eq "$(find "$WORK/hostmnt" -mindepth 2 | wc -l)" 0 "a mount reached the host through /proc, /dev or /sys"

# -t: a terminal from the container's own devpts, with the caller's window size; exec -t too.
out=$(script -qec "stty cols 91 rows 33; $KILN run -t $img /bin/sh -c 'tty; stty size'" /dev/null < /dev/null | tr -d '\r')
echo "$out" | grep -qx "/dev/pts/0" || fail "-t gives no terminal inside the container: $out"
echo "$out" | grep -qx "33 91" || fail "-t window size not passed: $out"

# Detached: ps, logs, exec, stop; then nothing left.
cid=$(kiln run -d --name probe-bg "$img" /bin/sh -c 'echo ready; while :; do sleep 0.2; done')
[[ ${#cid} -eq 64 ]] || fail "run -d printed '$cid'"
sleep 0.4
kiln ps > "$WORK/ps.out"; grep -q probe-bg "$WORK/ps.out" || fail "ps: $(cat "$WORK/ps.out")"
kiln logs probe-bg | has_line -x ready || fail "logs"
rc=0; "$KILN" run --name probe-bg "$img" /bin/true 2> "$WORK/dup.err" || rc=$?
assert_eq $rc 125 "exit code of a second container with a name in use"
grep -q 'already in use' "$WORK/dup.err" || fail "name conflict: $(cat "$WORK/dup.err")"
expect_fail "invalid container name" kiln run --name '../x' "$img" /bin/true
# exec as docker takes it: -u, -w, -e over --env-file, -d (returns at once, the command runs on), TERM under -t;
# --privileged and a relative -w refused with a line.
printf 'A=from-file\nB=file\n' > "$WORK/exec.env"
out=$(kiln exec -u app -w /wd-home --env-file "$WORK/exec.env" -e B=flag probe-bg /bin/sh -c 'id -u; pwd; echo $A $B')
assert_eq "$(echo $out)" "1000 /wd-home from-file flag" "exec -u -w --env-file -e"
kiln exec -d probe-bg /bin/sh -c 'sleep 0.3; echo later > /tmp/exec-d'
assert_eq "$(kiln exec probe-bg /bin/sh -c 'cat /tmp/exec-d 2>/dev/null || echo not-yet')" not-yet "exec -d returned before its command ended"
for _ in $(seq 30); do [ "$(kiln exec probe-bg cat /tmp/exec-d 2>/dev/null)" = later ] && break; sleep 0.1; done
assert_eq "$(kiln exec probe-bg cat /tmp/exec-d)" later "exec -d's command ran on"
assert_eq "$(kiln exec -t probe-bg /bin/sh -c 'echo $TERM' < /dev/null | tr -d '\r')" xterm "exec -t sets TERM"
expect_fail "--privileged: kiln does not run privileged containers" kiln exec --privileged probe-bg true
expect_fail "must be absolute" kiln exec -w rel probe-bg true
# Each container has a network namespace of its own, and exec joins its container's.
bg_net=$(kiln exec probe-bg /bin/sh -c 'readlink /proc/self/ns/net')
[ "$bg_net" != "$(sh_in "$img" /bin/sh -c 'readlink /proc/self/ns/net')" ] || fail "two running containers share a network namespace"
[ "$bg_net" != "$(readlink /proc/self/ns/net)" ] || fail "a container is in the host's network namespace"
out=$(kiln exec probe-bg /bin/sh -c 'echo "exec-pid=$$"; grep Seccomp: /proc/self/status')
echo "$out" | grep -q "Seccomp:.*2" || fail "exec without seccomp: $out"
rc=0; kiln exec probe-bg /bin/sh -c 'exit 7' || rc=$?; assert_eq $rc 7 "exec exit code"
assert_eq "$(kiln exec -e Y=2 -- probe-bg /bin/sh -c 'echo $Y')" "2" "exec: -- before the container"
rc=0; kiln exec --bogus probe-bg true 2>/dev/null || rc=$?; assert_eq $rc 125 "exec: unknown flag"
out=$(script -qec "$KILN exec -t probe-bg /bin/sh -c tty" /dev/null < /dev/null | tr -d '\r')
echo "$out" | grep -q "^/dev/pts/" || fail "exec -t gives no terminal: $out"
"$KILN" logs -f probe-bg > "$WORK/follow.out" 2>&1 &
follower=$!
for _ in $(seq 1 100); do grep -q ready "$WORK/follow.out" && break; sleep 0.1; done  # attached
kill -0 $follower 2>/dev/null || fail "logs -f returned while the container runs: $(cat "$WORK/follow.out")"
kiln stop -t 1 probe-bg >/dev/null
for _ in $(seq 1 50); do kill -0 $follower 2>/dev/null || break; sleep 0.1; done
kill -0 $follower 2>/dev/null && { kill $follower; fail "logs -f did not end with the container"; }
wait $follower || fail "logs -f failed: $(cat "$WORK/follow.out")"
grep -qx ready "$WORK/follow.out" || fail "logs -f: $(cat "$WORK/follow.out")"
assert_eq "$(kiln ps -q | wc -l)" 0 "containers left after stop"
# --stop-signal is what kiln stop sends; --stop-timeout how long it waits when not given -t.
kiln run -d --name probe-sig --stop-signal USR1 "$img" /bin/sh -c 'trap "echo got-usr1; exit 3" USR1; echo up; while :; do sleep 0.1; done' >/dev/null
for _ in $(seq 1 50); do kiln logs probe-sig 2>/dev/null | has_line up && break; sleep 0.1; done
kiln logs -f probe-sig > "$WORK/sig.out" 2>&1 &
follower=$!
# The follower is attached once it has printed what was logged; stopped first, the container would be gone.
for _ in $(seq 1 100); do grep -q up "$WORK/sig.out" && break; sleep 0.1; done
kiln stop -t 5 probe-sig >/dev/null
wait $follower || true
grep -qx got-usr1 "$WORK/sig.out" || fail "--stop-signal USR1 not sent by stop: $(cat "$WORK/sig.out")"
kiln run -d --name probe-slow --stop-timeout 1 "$img" /bin/sh -c 'trap "" TERM; while :; do sleep 0.1; done' >/dev/null
sleep 0.3; t0=$(date +%s)
kiln stop probe-slow >/dev/null
[ $(( $(date +%s) - t0 )) -le 4 ] || fail "--stop-timeout 1 not honoured by stop"
assert_eq "$(kiln ps -q | wc -l)" 0 "containers left after --stop-timeout"

# kill -9 of kiln: the container dies with it, and the next kiln command clears the leftovers.
"$KILN" run --name doomed -m 64m "$img" /bin/sh -c 'while :; do sleep 1; done' &
kpid=$!
sleep 0.5; kill -9 $kpid; wait $kpid 2>/dev/null || true
sleep 0.3
[ "$(ls "$KILN_RUN_DIR" | wc -l)" -eq 1 ] || fail "no state file left by the killed kiln to clean up"
doomed=$(ls "$KILN_RUN_DIR" | sed -n 's/\.json$//p')
# The next run clears what the killed one left, and its name is free again.
assert_eq "$(kiln run --name doomed "$img" /bin/echo reused)" "reused" "the name of a killed container is free again"
assert_eq "$(ls "$KILN_RUN_DIR" | wc -l)" 0 "state left after kill -9"
assert_eq "$(ls -A "$KILN_RUN_DIR/.names" | wc -l)" 0 "name reservations left after kill -9"
# Its cgroups go too, even when its processes are still dying as the sweep comes (kiln gc would find them).
assert_eq "$(find /sys/fs/cgroup -maxdepth 6 -name "kiln-${doomed:0:16}" | wc -l)" 0 "cgroups left after kill -9"
# Four runs race for one name: exactly one gets it.
for i in 1 2 3 4; do ( rc=0; "$KILN" run --name racer "$img" /bin/sleep 1 >/dev/null 2>&1 || rc=$?; echo $rc > "$WORK/race.$i" ) & done
for _ in $(seq 1 100); do [ "$(ls "$WORK"/race.* 2>/dev/null | wc -l)" -eq 4 ] && break; sleep 0.1; done
assert_eq "$(cat "$WORK"/race.* | sort | tr '\n' ' ')" "0 125 125 125 " "exit codes of four runs racing for one name"

# Many layers: a 300-layer image runs (overlay lowerdir+ takes one layer per call).
python3 - "$WORK" <<'PY'
import hashlib, io, json, sys, tarfile
work = sys.argv[1]
blobs = {}
def add(data):
    h = hashlib.sha256(data).hexdigest(); blobs[h] = data; return h
layers, diffs = [], []
for i in range(300):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as t:
        d = f"layer {i}\n".encode(); ti = tarfile.TarInfo(f"layers/{i:03d}"); ti.size = len(d); t.addfile(ti, io.BytesIO(d))
    h = add(buf.getvalue()); layers.append({"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": "sha256:" + h, "size": len(buf.getvalue())}); diffs.append("sha256:" + h)
cfg = json.dumps({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": diffs}}).encode()
ch = add(cfg)
man = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                  "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": "sha256:" + ch, "size": len(cfg)},
                  "layers": layers}).encode()
mh = add(man)
index = json.dumps({"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": "sha256:" + mh, "size": len(man),
                    "annotations": {"io.containerd.image.name": "localhost/many:1"}}]}).encode()
with tarfile.open(f"{work}/many.tar", "w") as t:
    for name, data in [("oci-layout", b'{"imageLayoutVersion":"1.0.0"}'), ("index.json", index)] + [(f"blobs/sha256/{h}", d) for h, d in blobs.items()]:
        ti = tarfile.TarInfo(name); ti.size = len(data); t.addfile(ti, io.BytesIO(data))
PY
kiln load -i "$WORK/many.tar" >/dev/null
out=$(kiln run -v /bin/busybox:/bin/busybox:ro localhost/many:1 /bin/busybox sh -c 'ls /layers | wc -l; cat /layers/000 /layers/299')
echo "$out" | grep -qx 300 || fail "300-layer image: $out"
echo "$out" | grep -qx "layer 299" || fail "300-layer image top layer: $out"

# Every container above is over, and took its cgroups with it.
left=$(container_cgroups | comm -13 "$WORK/cgroups.before" - | tr '\n' ' ')
[ -z "$left" ] || fail "cgroups left by the containers above: $left"
kiln gc >/dev/null  # what others left before this test began, so the count below is this test's
# kiln gc removes a container cgroup no state records (a kiln killed at the wrong moment), never a live one's.
v2=/sys/fs/cgroup; [ -e $v2/cgroup.controllers ] || v2=/sys/fs/cgroup/unified
own=$(grep '^0::' /proc/self/cgroup | cut -d: -f3); [ "$own" = / ] && own=
# Container cgroups live in "kiln" below the hierarchy's root, which holds the device filter; earlier kilns made
# them below kiln's own cgroup, or beside "kiln".
mkdir -p "$v2/kiln/kiln-00000000deadbeef" "$v2$own/kiln-00000000feedbeef"
cid=$(kiln run -d --name gc-live "$img" /bin/sleep 30)
kiln gc > "$WORK/gc.out"
grep -q "2 leftover cgroups" "$WORK/gc.out" || fail "gc: $(cat "$WORK/gc.out")"
[ ! -e "$v2/kiln/kiln-00000000deadbeef" ] || fail "gc left the orphan cgroup"
[ ! -e "$v2$own/kiln-00000000feedbeef" ] || fail "gc left the orphan cgroup of the old layout"
[ -d "$v2/kiln/kiln-${cid:0:16}" ] || fail "gc removed a live container's cgroup"
kiln stop -t 1 gc-live >/dev/null

# Started from a cgroup that holds processes (a login's session scope, a service), kiln still makes the
# containers' cgroups below the root's "kiln": below its own, cgroup v2 could hand them no controller, since a
# cgroup with processes of its own passes none down.
scope=$v2$own/scope-test-$$
mkdir "$scope"
on_exit "'$KILN' stop -t 0 from-scope >/dev/null 2>&1; rmdir '$scope' 2>/dev/null"
sid=$(in_cgroup "$scope" "$KILN" run -d --name from-scope "$img" /bin/sleep 30)
[ -d "$v2/kiln/kiln-${sid:0:16}" ] || fail "a container started from a busy cgroup is not below the root's kiln cgroup: $(find "$v2" -name "kiln-${sid:0:16}")"
[ ! -e "$scope/kiln" ] || fail "a kiln cgroup was made in the busy cgroup kiln was started from"
in_cgroup "$scope" "$KILN" run --rm -m 32m --pids-limit 20 "$img" /bin/true || fail "limits from a busy cgroup"
kiln stop -t 1 from-scope >/dev/null
for _ in $(seq 50); do rmdir "$scope" 2>/dev/null && break; sleep 0.1; done
[ ! -e "$scope" ] || fail "a process of kiln's stayed in the cgroup it was started from: $(cat "$scope/cgroup.procs")"

# Nothing left behind on the host.
assert_eq "$(grep -c . /proc/self/mountinfo)" "$mounts_before" "host mount table changed"
assert_eq "$(find /sys/fs/cgroup -maxdepth 4 -name 'kiln-*' 2>/dev/null | wc -l)" "$cgroups_before" "cgroups left behind"
assert_eq "$(ls "$KILN_RUN_DIR" | wc -l)" 0 "container state left behind"
