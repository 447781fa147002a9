#!/usr/bin/env bash
# kiln-runtime with runc's command line: a bundle unpacked by umoci from a kiln image goes through create,
# state, start, exec, kill, delete and run; bad bundles and bad calls are one error line and leave nothing behind.
source "$(dirname "$0")/lib.sh"
RT=${KILN_RUNTIME:-$(dirname "$KILN")/kiln-runtime}
[ -x "$RT" ] || fail "no kiln-runtime at $RT"
command -v umoci >/dev/null || fail "umoci is missing (scripts/setup installs it)"
root=$WORK/state
rt() { "$RT" --root "$root" "$@"; }
on_exit 'for d in "$root"/*/; do [ -d "$d" ] && "$RT" --root "$root" delete -f "$(basename "$d")" 2>/dev/null; done'

make_busybox_rootfs "$WORK/rootfs"
tar -C "$WORK/rootfs" -cf "$WORK/rootfs.tar" .
kiln import "$WORK/rootfs.tar" localhost/rt:1 >/dev/null
kiln save localhost/rt:1 -o "$WORK/img.tar"
mkdir -p "$WORK/layout" && tar -xf "$WORK/img.tar" -C "$WORK/layout"
umoci unpack --image "$WORK/layout:1" "$WORK/bundle" >/dev/null 2>&1 || fail "umoci unpack of a kiln image"
bundle=$WORK/bundle
# set_config PYTHON [ARG...]: edit the bundle's config.json (c is the document, the ARGs sys.argv[3:]).
set_config() {
  python3 - "$bundle/config.json" "$@" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
exec(sys.argv[2])
json.dump(c, open(sys.argv[1], "w"))
PY
}
state_of() { rt state "$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["status"])'; }
mounts_before=$(grep -c . /proc/self/mountinfo)

# --- create, state, start: the process waits for start, then runs with the bundle's config.
set_config 'c["process"]["terminal"] = False; c["process"]["args"] = ["sh", "-c", "echo started as $(id -u):$(id -g) in $(pwd); cat /proc/self/status | grep NoNewPrivs; touch /x 2>/dev/null || echo root-ro; sleep 100"]; c["process"]["cwd"] = "/tmp"; c["root"]["readonly"] = True; c["linux"]["resources"]["pids"] = {"limit": 50}'
(cd "$bundle" && rt create --pid-file "$WORK/pid" c1 >"$WORK/c1.out" 2>&1) || fail "create: $(cat "$WORK/c1.out")"
pid=$(cat "$WORK/pid")
[ -d /proc/"$pid" ] || fail "no process $pid after create"
assert_eq "$(state_of c1)" created "state after create"
rt state c1 | has_line "\"pid\": $pid" || fail "state lacks the pid"
[ ! -s "$WORK/c1.out" ] || fail "the process ran before start: $(cat "$WORK/c1.out")"
rt start c1
for _ in $(seq 50); do grep -q root-ro "$WORK/c1.out" && break; sleep 0.1; done
grep -q "started as 0:0 in /tmp" "$WORK/c1.out" || fail "process output: $(cat "$WORK/c1.out")"
grep -q "NoNewPrivs:.*1" "$WORK/c1.out" || fail "noNewPrivileges not applied"
grep -q root-ro "$WORK/c1.out" || fail "root.readonly not applied"
assert_eq "$(state_of c1)" running "state after start"
rt ps -f json c1 | has_line "$pid" || fail "ps lacks the container's pid"
expect_fail "cannot start a container that is running" rt start c1
# --- list: runc's table, its JSON (containerd's go-runc reads it) and -q.
rt list > "$WORK/list.out"
assert_eq "$(head -1 "$WORK/list.out" | tr -s ' ')" "ID PID STATUS BUNDLE CREATED OWNER" "list header"
assert_eq "$(sed -n 2p "$WORK/list.out" | awk '{print $1, $2, $3, $4, $6}')" "c1 $pid running $bundle root" "list row"
assert_eq "$(rt list -q)" "c1" "list -q"
assert_eq "$(rt list -f json | python3 -c 'import json,sys; j=json.load(sys.stdin); print(len(j), j[0]["id"], j[0]["pid"], j[0]["status"], j[0]["owner"])')" \
  "1 c1 $pid running root" "list -f json"
assert_eq "$("$RT" --root "$WORK/no-such-root" list -f json)" "null" "list of a root with no container"
# exec: in the container's namespaces (its pid 1 is the sleeping sh), its cgroup, its exit code; --process too.
out=$(rt exec c1 sh -c 'cat /proc/1/cmdline | tr "\0" " "; echo; exit 4') && fail "exec's exit code was 0"
echo "$out" | grep -q "sleep 100" || fail "exec is not in the container's pid namespace: $out"
echo '{"args": ["sh", "-c", "id -u; cat /proc/self/status | grep NoNewPrivs"], "cwd": "/", "user": {"uid": 1000, "gid": 1000}, "noNewPrivileges": true}' >"$WORK/proc.json"
out=$(rt exec --process "$WORK/proc.json" c1)
assert_eq "$(echo "$out" | head -1)" 1000 "exec --process user"
rt exec -d --pid-file "$WORK/epid" c1 sleep 30
rt ps -f json c1 | has_line "$(cat "$WORK/epid")" || fail "exec'd process not in the container's cgroup"
expect_fail 'exec "/nope"' rt exec c1 /nope
expect_fail "that is not stopped: running" rt delete c1
# --- pause and resume (cgroup v2's freezer): the state says paused, the processes stop, exec is refused.
rt pause c1
assert_eq "$(state_of c1)" paused "state after pause"
grep -q "frozen 1" "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["cgroups"][0])' "$root/c1/state.json")/cgroup.events" || fail "the cgroup is not frozen"
expect_fail "cannot exec in a paused container" rt exec c1 true
expect_fail "container not running" rt pause c1
rt resume c1
assert_eq "$(state_of c1)" running "state after resume"
expect_fail "container not paused" rt resume c1
# --- update: new limits for the running container, from flags and from --resources.
pids_max() { cat "$cg/pids.max" 2>/dev/null || cat /sys/fs/cgroup/pids/kiln-runtime/c1/pids.max; }
cg=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["cgroups"][0])' "$root/c1/state.json")
assert_eq "$(pids_max)" 50 "pids limit from config.json"
rt update --pids-limit 60 c1
assert_eq "$(pids_max)" 60 "update --pids-limit"
echo '{"pids": {"limit": 70}, "memory": {"limit": 67108864}}' | rt update --resources - c1
assert_eq "$(pids_max)" 70 "update --resources -"
mem=$(cat "$cg/memory.max" 2>/dev/null || cat /sys/fs/cgroup/memory/kiln-runtime/c1/memory.limit_in_bytes)
assert_eq "$mem" 67108864 "update's memory limit"
expect_fail 'is not a list such as 0-2,4' rt update --cpuset-cpus '0;1' c1
expect_fail 'container "nope" does not exist' rt update --pids-limit 5 nope
# --- kill by name, then delete: nothing left (state, cgroup, mounts, process).
cg=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["cgroups"][0])' "$root/c1/state.json")
[ -d "$cg" ] || fail "no cgroup $cg"
rt kill c1 KILL
for _ in $(seq 50); do [ "$(state_of c1)" = stopped ] && break; sleep 0.1; done
assert_eq "$(state_of c1)" stopped "state after kill"
rt delete c1
[ ! -e "$root/c1" ] || fail "state left after delete"
for _ in $(seq 100); do pgrep -f "^sleep 100$" >/dev/null || break; sleep 0.1; done
pgrep -f "^sleep 100$" >/dev/null && fail "c1's sleep outlived its container: $(pgrep -af '^sleep 100$')"
[ ! -e "$cg" ] || fail "cgroup left after delete: $cg"
expect_fail 'container "c1" does not exist' rt state c1
expect_fail 'container "c1" does not exist' rt kill c1 TERM
expect_fail 'container "c1" does not exist' rt exec c1 true

# --- run: the exit code of the process; --detach returns once it runs; a created container can be deleted.
set_config 'c["process"]["args"] = ["sh", "-c", "exit 7"]; c["root"]["readonly"] = False'
rc=0; (cd "$bundle" && rt run r1 >/dev/null 2>&1) || rc=$?
assert_eq "$rc" 7 "run's exit code"
[ ! -e "$root/r1" ] || fail "run left its state"
# tmpcopyup (runc's extension, podman --read-only uses it): a writable tmpfs that starts with the directory's files.
set_config 'c["mounts"].append({"destination": "/etc", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "tmpcopyup"]}); c["process"]["args"] = ["sh", "-c", "grep -c root /etc/passwd && touch /etc/new && echo etc-writable"]; c["root"]["readonly"] = True'
out=$(rt run -b "$bundle" tc1 2>&1) || fail "tmpcopyup: $out"
assert_eq "$(echo $out)" "1 etc-writable" "tmpcopyup"
[ ! -e "$bundle/rootfs/etc/new" ] || fail "tmpcopyup wrote through to the bundle"
set_config 'c["mounts"] = [m for m in c["mounts"] if m["destination"] != "/etc"]; c["root"]["readonly"] = False'
set_config 'c["process"]["args"] = ["sleep", "100"]'
(cd "$bundle" && rt run -d r2 >/dev/null 2>&1) || fail "run --detach"
assert_eq "$(state_of r2)" running "run --detach"
rt delete -f r2
rt create -b "$bundle" c2 >/dev/null 2>&1
rt delete c2  # created, never started: runc deletes it too
[ ! -e "$root/c2" ] || fail "created container not deleted"

# --- a terminal: the pty master reaches --console-socket over SCM_RIGHTS.
set_config 'c["process"]["terminal"] = True; c["process"]["args"] = ["sh", "-c", "[ -t 0 ] && echo on-a-tty"]'
python3 - "$WORK/console.sock" "$WORK/tty.out" <<'PY' &
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); s.bind(sys.argv[1]); s.listen(1); s.settimeout(20)
conn, _ = s.accept()
msg, fds, flags, addr = socket.recv_fds(conn, 64, 1)
out = b""
while b"on-a-tty" not in out:
    try:
        d = os.read(fds[0], 1024)
    except OSError:
        break
    if not d:
        break
    out += d
open(sys.argv[2], "wb").write(out)
PY
listener=$!
for _ in $(seq 50); do [ -S "$WORK/console.sock" ] && break; sleep 0.1; done
rt run -b "$bundle" --console-socket "$WORK/console.sock" t1 >/dev/null 2>&1 || fail "run with a terminal"
wait "$listener"
grep -q on-a-tty "$WORK/tty.out" || fail "no terminal in the container: $(cat "$WORK/tty.out")"
set_config 'c["process"]["terminal"] = False'

# --- hooks: each kind at its point, in order, with the state on stdin; prestart, createRuntime, poststart and
# poststop in the runtime's namespaces, createContainer in the container's before pivot_root (pid 1, the host's
# files still in view), startContainer in the container after start (its own /bin/sh, its own root).
hooklog=$WORK/hooks.log
cp -a "$bundle/config.json" "$WORK/good.json"
export HOOKLOG=$hooklog
set_config 'import os
log = os.environ["HOOKLOG"]
c["process"]["args"] = ["sh", "-c", "echo ran >> /hooks.in"]; c["annotations"] = {"a": "b"}
c["hooks"] = {k: [{"path": "/bin/sh", "args": ["sh", "-c", "echo %s $(cat) >> %s" % (k, log)]}]
              for k in ["prestart", "createRuntime", "createContainer", "poststart", "poststop"]}
c["hooks"]["startContainer"] = [{"path": "/bin/sh", "args": ["sh", "-c", "echo startContainer $(cat) >> /hooks.in"]}]'
rt create -b "$bundle" --pid-file "$WORK/hpid" h1 >/dev/null 2>&1 || fail "create with hooks: $(rt create -b "$bundle" h1x 2>&1)"
hpid=$(cat "$WORK/hpid")
assert_eq "$(cut -d' ' -f1 "$hooklog" | tr '\n' ' ')" "prestart createRuntime createContainer " "hooks run by create"
python3 - "$hooklog" "$hpid" "$bundle" <<'PY' || fail "hook state: $(cat "$hooklog")"
import json, sys
for line in open(sys.argv[1]):
    kind, text = line.split(" ", 1)
    s = json.loads(text)
    assert s["id"] == "h1" and s["bundle"] == sys.argv[3] and s["annotations"] == {"a": "b"}, line
    assert s["status"] == "created", line
    assert s["pid"] == (1 if kind == "createContainer" else int(sys.argv[2])), line
PY
rt start h1
for _ in $(seq 50); do grep -q poststart "$hooklog" && [ "$(state_of h1)" = stopped ] && break; sleep 0.1; done
assert_eq "$(cut -d' ' -f1 "$bundle/rootfs/hooks.in" | tr '\n' ' ')" "startContainer ran " "startContainer before the process, in the container"
grep -q '^poststart .*"status":"running"' "$hooklog" || fail "poststart: $(cat "$hooklog")"
rt delete h1
grep -q '^poststop .*"status":"stopped"' "$hooklog" || fail "poststop: $(cat "$hooklog")"
rm -f "$bundle/rootfs/hooks.in"
# A hook that fails fails create with its last line; one that hangs is killed at its timeout; a failing poststop
# is a warning. Nothing is left either way.
set_config 'c["hooks"] = {"createRuntime": [{"path": "/bin/sh", "args": ["sh", "-c", "echo no network for you >&2; exit 3"]}]}'
expect_fail "hooks.createRuntime[0] (/bin/sh) failed: exit status 3: no network for you" rt create -b "$bundle" h2
set_config 'c["hooks"] = {"prestart": [{"path": "/bin/sleep", "args": ["sleep", "99.7"], "timeout": 1}]}'
expect_fail "did not finish within its timeout of 1s" rt create -b "$bundle" h3
pgrep -f "^sleep 99.7$" >/dev/null && fail "the hanging hook was left running"
set_config 'c["hooks"] = {"createContainer": [{"path": "/nope/hook"}]}'
expect_fail "exec /nope/hook" rt create -b "$bundle" h4
set_config 'c["hooks"] = {"poststop": [{"path": "/bin/false"}]}; c["process"]["args"] = ["true"]'
out=$(rt run -b "$bundle" h5 2>&1) || fail "a failing poststop failed the run: $out"
echo "$out" | grep -q "warning: container h5: hooks.poststop\[0\] (/bin/false) failed: exit status 1" || fail "poststop warning: $out"
set_config 'c["hooks"] = {"prestart": [{"path": "relative/hook"}]}'
expect_fail 'hooks.prestart: path "relative/hook" must be absolute' rt create -b "$bundle" h6
cp "$WORK/good.json" "$bundle/config.json"

# --- devices: linux.resources.devices decide what opens (then docker's default list, as runc appends it); a
# node of linux.devices is allowed. /dev/loop-control bound from the host opens only where a rule allows it.
set_config 'c["mounts"].append({"destination": "/dev/loop-control", "type": "bind", "source": "/dev/loop-control", "options": ["bind"]})
c["linux"]["devices"] = [{"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229, "fileMode": 8630}]
c["process"]["args"] = ["sh", "-c", "true < /dev/loop-control && echo lc-opened; true < /dev/fuse && echo fuse-opened; true < /dev/null && echo null-opened"]'
out=$(rt run -b "$bundle" d1 2>&1)
assert_eq "$(echo "$out" | grep -c opened)" 2 "without a rule: loop-control refused, fuse and null open ($out)"
echo "$out" | grep -q "loop-control.*Operation not permitted" || fail "loop-control not refused by the device filter: $out"
set_config 'c["linux"]["resources"]["devices"] = [{"allow": False, "access": "rwm"}, {"allow": True, "type": "c", "major": 10, "minor": 237, "access": "r"}]'
out=$(rt run -b "$bundle" d2 2>&1)
assert_eq "$(echo "$out" | grep -c opened)" 3 "a rule allows loop-control for reading ($out)"
set_config 'c["process"]["args"] = ["sh", "-c", "true > /dev/loop-control && echo lc-written"]'
out=$(rt run -b "$bundle" d3 2>&1) && fail "loop-control opened for writing with an r rule: $out"
echo "$out" | grep -q "Operation not permitted" || fail "loop-control for writing: $out"
set_config 'c["linux"]["resources"]["devices"] = [{"allow": True, "type": "x"}]'
expect_fail 'type "x" is not a, c or b' rt create -b "$bundle" d4
cp "$WORK/good.json" "$bundle/config.json"

# --- a time namespace with linux.timeOffsets (its boot clock a day ahead: /proc/uptime), exec joins it;
# linux.personality LINUX32 (uname -m says i686).
set_config 'c["linux"]["namespaces"].append({"type": "time"}); c["linux"]["timeOffsets"] = {"boottime": {"secs": 86400, "nanosecs": 0}}
c["linux"]["personality"] = {"domain": "LINUX32"}; c["process"]["args"] = ["sleep", "30"]'
rt run -d -b "$bundle" tn1 >/dev/null 2>&1 || fail "run with a time namespace: $(rt run -b "$bundle" tn1x 2>&1)"
host_up=$(cut -d. -f1 /proc/uptime)
in_up=$(rt exec tn1 sh -c 'read up idle < /proc/uptime; echo ${up%.*}')
[ "$in_up" -ge $((host_up + 86000)) ] || fail "exec not in the time namespace: uptime $in_up vs host $host_up"
rt delete -f tn1
set_config 'c["process"]["args"] = ["sh", "-c", "read up idle < /proc/uptime; echo ${up%.*}; busybox uname -m"]'
out=$(rt run -b "$bundle" tn2 2>&1)
[ "$(echo "$out" | head -1)" -ge $((host_up + 86000)) ] || fail "timeOffsets: $out"
assert_eq "$(echo "$out" | tail -1)" i686 "linux.personality LINUX32"
set_config 'c["linux"]["namespaces"] = [n for n in c["linux"]["namespaces"] if n["type"] != "time"]'
expect_fail "linux.timeOffsets: needs a new time namespace" rt create -b "$bundle" tn3
cp "$WORK/good.json" "$bundle/config.json"

# --- how the container's process is made. With no user or time namespace and no pid or mount namespace to
# join, create clones it straight into its namespaces and its v2 cgroup, and it joins the others given by path
# itself (a pod's network and uts namespaces); otherwise a namespace process forks it (a pid namespace by path).
# Where clone3 is refused it is a plain clone and a cgroup.procs write. Each way it is in its cgroups.
cgroup_lines() { grep -E '^0::|devices' "/proc/$1/cgroup" | sed 's/^[0-9]*:[a-z,]*://' | sort -u; }
set_config 'c["process"]["args"] = ["sleep", "60"]'
rt run -d -b "$bundle" ns1 >/dev/null 2>&1 || fail "run -d ns1"
pod=$(rt state ns1 | python3 -c 'import json,sys; print(json.load(sys.stdin)["pid"])')
assert_eq "$(cgroup_lines "$pod")" "/kiln-runtime/ns1" "a cloned container is in its cgroups (v2 and devices)"
set_config 'c["process"]["args"] = ["sh", "-c", "for n in net uts pid; do readlink /proc/self/ns/$n; done"]
c.pop("hostname", None)
for n in c["linux"]["namespaces"]:
    if n["type"] in ("network", "uts"): n["path"] = "/proc/%s/ns/%s" % (sys.argv[3], "net" if n["type"] == "network" else n["type"])' "$pod"
out=$(rt run -b "$bundle" ns2 2>&1) || fail "joining net and uts by path: $out"
assert_eq "$(echo "$out" | head -2 | tr '\n' ' ')" "$(readlink /proc/$pod/ns/net /proc/$pod/ns/uts | tr '\n' ' ')" "joined the pod's network and uts namespaces"
[ "$(echo "$out" | tail -1)" != "$(readlink /proc/$pod/ns/pid)" ] || fail "ns2 joined a pid namespace it was not given"
set_config 'for n in c["linux"]["namespaces"]:
    if n["type"] == "pid": n["path"] = "/proc/%s/ns/pid" % sys.argv[3]' "$pod"
out=$(rt run -b "$bundle" ns3 2>&1) || fail "joining the pid namespace by path: $out"
assert_eq "$(echo "$out" | tail -1)" "$(readlink /proc/$pod/ns/pid)" "joined the pod's pid namespace"
rt delete -f ns1
cp "$WORK/good.json" "$bundle/config.json"
cc -O2 -o "$WORK/without_clone3" "$(dirname "$0")/fixtures/without_clone3.c" || fail "cc without_clone3.c"
"$WORK/without_clone3" --check || fail "the clone3 filter does not hold"
set_config 'c["process"]["args"] = ["sleep", "60"]'
(cd "$bundle" && "$WORK/without_clone3" "$RT" --root "$root" create --pid-file "$WORK/ns4.pid" ns4) || fail "create without clone3"
assert_eq "$(cgroup_lines "$(cat "$WORK/ns4.pid")")" "/kiln-runtime/ns4" "without clone3: in its cgroups"
rt start ns4 && assert_eq "$(state_of ns4)" running "without clone3: running"
rt delete -f ns4
cp "$WORK/good.json" "$bundle/config.json"

# --- linux.seccomp: compiled once into the --root's cache (.seccomp, no container's id starts with '.'), then
# read back for the next container with the same profile and capabilities; applied either way.
set_config 'c["process"]["args"] = ["sh", "-c", "cd /proc 2>/dev/null && echo moved || echo refused"]'
assert_eq "$(rt run -b "$bundle" sc0 2>&1)" moved "chdir without a profile"
set_config 'c["linux"]["seccomp"] = {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["chdir"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}]}'
for i in 1 2; do
  assert_eq "$(rt run -b "$bundle" sc$i 2>&1)" refused "seccomp (run $i) refuses chdir"
done
assert_eq "$(ls "$root/.seccomp" | wc -l)" 1 "one cached program for one profile"
cp "$WORK/good.json" "$bundle/config.json"

# --- bad input: one line, non-zero, nothing left.
expect_fail "nowhere does not exist" rt create -b "$WORK/nowhere" b1
mkdir -p "$WORK/empty" && expect_fail "config.json" rt create -b "$WORK/empty" b1
cp -a "$bundle/config.json" "$WORK/good.json"
echo '{ not json' >"$bundle/config.json"
expect_fail "not valid JSON" rt create -b "$bundle" b1
cp "$WORK/good.json" "$bundle/config.json"
set_config 'c["linux"]["namespaces"].append({"type": "bogus"})'
expect_fail 'unknown namespace type "bogus"' rt create -b "$bundle" b1
cp "$WORK/good.json" "$bundle/config.json"
set_config 'c["process"]["cwd"] = "relative"'
expect_fail "process.cwd: must be an absolute path" rt create -b "$bundle" b1
cp "$WORK/good.json" "$bundle/config.json"
expect_fail "invalid container id" rt create -b "$bundle" "../escape"
expect_fail "invalid container id" rt create -b "$bundle" ".hidden"
rt create -b "$bundle" dup >/dev/null 2>&1
expect_fail "container with id exists: dup" rt create -b "$bundle" dup
assert_eq "$(state_of dup)" created "the first dup survives the second create"
rt delete dup
expect_fail 'container "never" does not exist' rt start never
set_config 'c["process"]["terminal"] = True'
touch "$WORK/not-a-socket"
expect_fail "--console-socket" rt create -b "$bundle" --console-socket "$WORK/not-a-socket" b2
cp "$WORK/good.json" "$bundle/config.json"
# A masked path with no /dev/null in the container to mask it with names what is missing.
set_config 'c["mounts"] = [m for m in c["mounts"] if not m["destination"].startswith("/dev")]; c["linux"]["maskedPaths"] = ["/proc/uptime"]'
expect_fail "lacks: mount /dev (tmpfs) or give the root a /dev/null" rt create -b "$bundle" b3
cp "$WORK/good.json" "$bundle/config.json"
# A mount whose destination is a symlink leading out of the root lands inside the root.
ln -s ../../../../../../../../tmp/kiln-runtime-escape-$$ "$bundle/rootfs/evil"
set_config 'c["mounts"].append({"destination": "/evil/sub", "type": "tmpfs", "source": "tmpfs"}); c["process"]["args"] = ["true"]'
rt run -b "$bundle" m1 >/dev/null 2>&1 || true
[ ! -e /tmp/kiln-runtime-escape-$$ ] || { rm -rf /tmp/kiln-runtime-escape-$$; fail "a mount followed a symlink out of the root"; }
cp "$WORK/good.json" "$bundle/config.json"
# --log-format json: the error as a JSON line with level, msg and time.
rt --log "$WORK/log.json" --log-format json start never 2>/dev/null && fail "start of nothing succeeded"
python3 -c 'import json,sys; l=json.loads(open(sys.argv[1]).read().splitlines()[-1]); assert l["level"]=="error" and "does not exist" in l["msg"] and l["time"]' "$WORK/log.json" || fail "json log: $(cat "$WORK/log.json")"
expect_fail "--systemd-cgroup is not supported" rt --systemd-cgroup state x

# --- The rest of linux.resources, each where this host keeps it (the hybrid layout of CI's machine: memory and
# blkio in v1, hugetlb in v2): memory's reservation, swap, swappiness and OOM killer, a block I/O throttle, a huge
# page limit and a v2 file as given; update moves memory and swap in the order the kernel takes them; what the
# host cannot apply is refused in one line, and a create refused so leaves nothing.
v2=$(findmnt -n -o TARGET -t cgroup2 | head -1)
if [ -e /sys/fs/cgroup/memory/memory.memsw.limit_in_bytes ] && [ -e /sys/fs/cgroup/blkio/blkio.throttle.read_bps_device ] &&
   grep -qw hugetlb "$v2/cgroup.controllers" && [ -e "$v2/cgroup.subtree_control" ]; then
  disk=$(for b in /sys/block/*; do case ${b##*/} in loop*|ram*|zram*) ;; *) [ "$(cat "$b/size")" != 0 ] && cat "$b/dev" && break ;; esac; done)
  disk=${disk:-$(cat /sys/block/loop0/dev)}
  set_config 'c["process"]["args"] = ["sleep", "100"]; c["linux"]["resources"] = {"memory": {"limit": 67108864, "reservation": 33554432, "swap": 100663296, "swappiness": 10, "disableOOMKiller": True}, "blockIO": {"throttleReadBpsDevice": [{"major": int(sys.argv[3]), "minor": int(sys.argv[4]), "rate": 1048576}]}, "hugepageLimits": [{"pageSize": "2MB", "limit": 4194304}], "unified": {"hugetlb.2MB.rsvd.max": "2097152"}}' "${disk%:*}" "${disk#*:}"
  rt create -b "$bundle" rs1 || fail "create with the rest of linux.resources"
  mem=/sys/fs/cgroup/memory/kiln-runtime/rs1
  assert_eq "$(cat $mem/memory.limit_in_bytes) $(cat $mem/memory.memsw.limit_in_bytes) $(cat $mem/memory.soft_limit_in_bytes)" \
    "67108864 100663296 33554432" "memory limit, memory+swap and reservation"
  assert_eq "$(cat $mem/memory.swappiness) $(head -1 $mem/memory.oom_control)" "10 oom_kill_disable 1" "swappiness, OOM killer"
  assert_eq "$(cat /sys/fs/cgroup/blkio/kiln-runtime/rs1/blkio.throttle.read_bps_device)" "$disk 1048576" "read throttle"
  assert_eq "$(cat "$v2/kiln-runtime/rs1/hugetlb.2MB.max") $(cat "$v2/kiln-runtime/rs1/hugetlb.2MB.rsvd.max")" \
    "4194304 2097152" "huge page limit and the unified file"
  rt update --memory 128m --memory-swap 192m rs1 || fail "update raising memory and swap"  # swap first, else EINVAL
  assert_eq "$(cat $mem/memory.limit_in_bytes) $(cat $mem/memory.memsw.limit_in_bytes)" "134217728 201326592" "raised"
  echo '{"memory": {"limit": 33554432, "swap": 50331648, "reservation": 16777216}}' | rt update -r - rs1 || fail "lowering"
  assert_eq "$(cat $mem/memory.limit_in_bytes) $(cat $mem/memory.memsw.limit_in_bytes) $(cat $mem/memory.soft_limit_in_bytes)" \
    "33554432 50331648 16777216" "lowered"
  expect_fail "a swap limit needs a memory limit" rt update --memory-swap 64m rs1
  expect_fail "--blkio-weight: 5 is not from 10 to 1000" rt update --blkio-weight 5 rs1
  rt delete -f rs1
  for r in 'c["linux"]["resources"] = {"unified": {"memory.high": "1000000"}}|memory.high (v2) for this container (its controller is not in cgroup v2 here)' \
           'c["linux"]["resources"] = {"hugepageLimits": [{"pageSize": "3MB", "limit": 1}]}|hugetlb.3MB.max (v2) or hugetlb.3MB.limit_in_bytes (v1) for this container (its kernel lacks the setting)' \
           'c["linux"]["resources"] = {"memory": {"limit": 2000, "swap": 1000}}|is below the memory limit' \
           'c["linux"]["resources"] = {"network": {"classID": 1048577}}|linux.resources.network (net_cls, net_prio) is not supported'; do
    set_config "${r%%|*}"
    expect_fail "${r#*|}" rt create -b "$bundle" rs2
  done
  cp "$WORK/good.json" "$bundle/config.json"
else
  echo "note: this host's cgroups are not the hybrid layout this section expects; its checks were skipped"
fi

# --- A cgroup mount without a cgroup namespace shows the container's own cgroups, as runc lays them out, not the
# host's tree with every other container's: its v2 cgroup (its cgroup.procs holds its processes alone), and
# where the host has v1 hierarchies (this hybrid one) each under its name, so its memory limit is readable where
# a JVM looks for it; all read-only.
own=/sys/fs/cgroup
[ -d /sys/fs/cgroup/memory ] && [ -d /sys/fs/cgroup/unified ] && own=/sys/fs/cgroup/unified
set_config 'c["process"]["args"] = ["sh", "-c", "ls %s; cat %s/cgroup.procs; cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null; touch /sys/fs/cgroup/x 2>/dev/null || echo cgroup-ro" % (sys.argv[3], sys.argv[3])]
c["linux"]["namespaces"] = [n for n in c["linux"]["namespaces"] if n["type"] != "cgroup"]
c["linux"].setdefault("resources", {})["memory"] = {"limit": 67108864}
c["mounts"] = [m for m in c["mounts"] if m["destination"] != "/sys/fs/cgroup"] + [{"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup", "options": ["nosuid", "noexec", "nodev", "relatime", "ro"]}]' "$own"
out=$(rt run -b "$bundle" cg1 2>&1) || fail "a cgroup mount without a cgroup namespace: $out"
echo "$out" | grep -qx "kiln-runtime" && fail "the container sees the host's cgroup tree: $out"
echo "$out" | grep -qx "cgroup.procs" || fail "no cgroup files in the cgroup mount: $out"
echo "$out" | grep -qx "cgroup-ro" || fail "the cgroup mount is writable: $out"
assert_eq "$(echo "$out" | grep -x '[0-9]' | tr '\n' ' ')" "1 3 " "the container's own processes (sh, cat), from inside"
[ "$own" = /sys/fs/cgroup ] || echo "$out" | grep -qx 67108864 || fail "the v1 memory limit is not where a JVM reads it: $out"
cp "$WORK/good.json" "$bundle/config.json"

# --- No mount namespace in the config: the host's, as the runtime spec says of a namespace not listed (runc
# chroots there too). The config's mounts are made under the root in the host's mount table and delete takes them
# down, found by mount ID where they are now: a container that renamed a directory above one and left a symlink
# to a host path in its place does not steer the unmount there. exec runs inside the root. What would change the
# host's mounts outside the root is refused.
mkdir -p "$WORK/victim/b" && mount -t tmpfs victim "$WORK/victim/b"
on_exit "umount -l '$WORK/victim/b' 2>/dev/null"
set_config 'c["linux"]["namespaces"] = [n for n in c["linux"]["namespaces"] if n["type"] != "mount"]
for k in ("maskedPaths", "readonlyPaths"): c["linux"].pop(k, None)
c["root"]["readonly"] = False
c["mounts"].append({"destination": "/a/b", "type": "tmpfs", "source": "tmpfs"})
c["process"]["args"] = ["sh", "-c", "mv /a /a2 && ln -s %s /a && touch /moved; sleep 100" % sys.argv[3]]' "$WORK/victim"
(cd "$bundle" && rt create --pid-file "$WORK/pid" hm1) || fail "create without a mount namespace"
assert_eq "$(readlink /proc/"$(cat "$WORK/pid")"/ns/mnt)" "$(readlink /proc/self/ns/mnt)" "the container's mount namespace"
grep -q " $bundle/rootfs/a/b " /proc/self/mountinfo || fail "the config's mount is not in the host's table"
rt start hm1
for _ in $(seq 50); do [ -e "$bundle/rootfs/moved" ] && break; sleep 0.1; done
[ -L "$bundle/rootfs/a" ] || fail "the container did not rename /a"
assert_eq "$(rt exec hm1 sh -c 'ls /a2; test -e /etc/debian_version && echo host-root || echo own-root')" "b
own-root" "exec without a mount namespace"
out=$(rt delete -f hm1 2>&1) || fail "delete: $out"
[ -z "$out" ] || fail "delete warned: $out"
grep -q " $bundle/rootfs/" /proc/self/mountinfo && fail "mounts left under the root: $(grep " $bundle/rootfs/" /proc/self/mountinfo)"
grep -q " $WORK/victim/b " /proc/self/mountinfo || fail "delete unmounted a host mount the container pointed at"
umount "$WORK/victim/b"
rm -rf "$bundle/rootfs/a" "$bundle/rootfs/a2" "$bundle/rootfs/moved"
set_config 'c["linux"]["maskedPaths"] = ["/proc/kcore"]'
expect_fail "linux.maskedPaths: needs a mount namespace" rt create -b "$bundle" hm2
cp "$WORK/good.json" "$bundle/config.json"

# Nothing left: no state, no mounts, no cgroups of ours.
[ -z "$(ls -A "$root" 2>/dev/null | grep -v '^\.seccomp$')" ] || fail "states left: $(ls "$root")"
assert_eq "$(grep -c . /proc/self/mountinfo)" "$mounts_before" "mounts left behind"
left=$(find /sys/fs/cgroup -path '*kiln-runtime/*' -type d 2>/dev/null | grep -E '/(c1|c2|r1|r2|t1|m1|dup|b[1-3]|h[1-6]|d[1-4]|tn[1-3]|ns[1-4]|sc[0-2]|rs[12]|cg1|hm[12])$' || true)
[ -z "$left" ] || fail "cgroups left: $left"
rt features | python3 -c 'import json,sys; f=json.load(sys.stdin); assert "pid" in f["linux"]["namespaces"]' || fail "features"
