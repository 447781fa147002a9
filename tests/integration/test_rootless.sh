#!/usr/bin/env bash
# Rootless kiln: two ordinary users made here, one with /etc/subuid and /etc/subgid ranges and one without,
# run kiln through setpriv. A rootless build gives the digest of the root build of the same Buildfile and
# context; runs keep kiln's guarantees; what cannot work without privileges is refused in one line.
source "$(dirname "$0")/lib.sh"
export KILN_RUN_DIR=$WORK/run  # root's kiln; the users' kilns keep theirs in /tmp/kiln-UID (no XDG_RUNTIME_DIR)
export SOURCE_DATE_EPOCH=1700000000

ranged=kiln-rl-ranged single=kiln-rl-single
rootless_user $ranged
rootless_user $single single
uid=$(id -u $ranged)
if ! userns_allowed $ranged; then  # such a host gets the refusal, and only that is tried
  expect_fail "rootless kiln" user_kiln $ranged images
  echo "note: this host refuses unprivileged user namespaces: only the refusal was tried"
  exit 0
fi

# A busybox base, owned by root in the tarball.
make_busybox_rootfs "$WORK/rootfs"
for app in chown chmod ln stat mkdir rm grep cut sh; do ln -sf busybox "$WORK/rootfs/bin/$app"; done
tar --owner=0 --group=0 -C "$WORK/rootfs" -cf "$WORK/base.tar" .
chmod 644 "$WORK/base.tar"
kiln import "$WORK/base.tar" localhost/base:1 >/dev/null
user_kiln $ranged import "$WORK/base.tar" localhost/base:1 >/dev/null

# --- the same Buildfile, root and rootless: the same manifest digest
ctx=$WORK/ctx
mkdir -p "$ctx"
echo "copied" > "$ctx/a.txt"
cat > "$ctx/Buildfile" <<'BF'
FROM localhost/base:1
COPY --chown=1000:50 a.txt /srv/a.txt
RUN mkdir -p /data/old /data/keep && echo x > /data/old/f && echo y > /data/keep/gone && chown 1000:50 /data/old/f
RUN echo "app:x:2000:2000::/home/app:/bin/sh" >> /etc/passwd && touch /srv/tool && chown app /srv/tool && chmod 4755 /srv/tool \
 && ln /srv/a.txt /srv/hard && rm /data/keep/gone && rm -rf /data/old && mkdir /data/old && echo new > /data/old/n
CMD ["cat", "/srv/a.txt"]
BF
chmod -R a+rX "$ctx"
kiln build -q -t localhost/same:1 "$ctx" > "$WORK/root.id" 2> "$WORK/root.err" || { cat "$WORK/root.err"; fail "root build"; }
user_kiln $ranged build -q -t localhost/same:1 "$ctx" > "$WORK/rl.id" 2> "$WORK/rl.err" || { cat "$WORK/rl.err"; fail "rootless build"; }
manifest_of() { json_get "$1/index.json" "[m['digest'] for m in j['manifests'] if m.get('annotations',{}).get('org.opencontainers.image.ref.name')=='localhost/same:1'][0]"; }
rl_store=$(getent passwd $ranged | cut -d: -f6)/.local/share/kiln
[ -f "$rl_store/index.json" ] || fail "the rootless store is not in ~/.local/share/kiln"
assert_eq "$(cat "$WORK/rl.id")" "$(cat "$WORK/root.id")" "rootless and root builds: image ID"
assert_eq "$(manifest_of "$rl_store")" "$(manifest_of "$KILN_ROOT")" "rootless and root builds: manifest digest"
# The owners in the layers are the image's (1000:50, 2000, setuid kept), never the mapped host ids.
umoci unpack --image "$rl_store:localhost/same:1" "$WORK/bundle" >/dev/null
r=$WORK/bundle/rootfs
assert_eq "$(stat -c %u:%g "$r/srv/a.txt")" "1000:50" "COPY --chown owner"
assert_eq "$(stat -c %u:%g "$r/data/old/n")" "0:0" "a file made by RUN as root"
assert_eq "$(stat -c %u:%a "$r/srv/tool")" "2000:4755" "chown to a user added in RUN, setuid bit"
assert_eq "$(stat -c %i "$r/srv/hard")" "$(stat -c %i "$r/srv/a.txt")" "hard link"
[ ! -e "$r/data/keep/gone" ] || fail "a deleted file came back"
[ ! -e "$r/data/old/f" ] || fail "a replaced directory kept old content (opaque directory lost)"
# The store's everyday commands, rootless.
mkdir -m 777 "$WORK/out"
user_kiln $ranged save -o "$WORK/out/same.tar" localhost/same:1
user_kiln $ranged export -o "$WORK/out/rootfs.tar" localhost/same:1
tar -tvf "$WORK/out/rootfs.tar" | has_line "1000/50 .* srv/a.txt" || fail "export rootless: owners of the image"
user_kiln $ranged tag localhost/same:1 localhost/other:1
user_kiln $ranged rmi localhost/other:1 >/dev/null
user_kiln $ranged load -i "$WORK/out/same.tar" >/dev/null
user_kiln $ranged gc >/dev/null
user_kiln $ranged fsck >/dev/null || fail "rootless fsck: $(user_kiln $ranged fsck 2>&1)"
# No-op rebuild: from the cache, the same image.
user_kiln $ranged build -q -t localhost/same:1 "$ctx" > "$WORK/rl2.id"
assert_eq "$(cat "$WORK/rl2.id")" "$(cat "$WORK/rl.id")" "rootless rebuild"

# --- kiln info tells which kiln this is
user_kiln $ranged info | has_line "^Rootless: *yes, for uid $uid (ids 0 -> $uid (1), 1 -> [0-9]* (65535))" \
  || fail "rootless info: $(user_kiln $ranged info | grep Rootless)"
kiln info | has_line "^Rootless: *no$" || fail "root's info: $(kiln info | grep Rootless)"

# --- run
out=$(user_kiln $ranged run localhost/same:1)
assert_eq "$out" "copied" "rootless run of the built image"
err=$(user_kiln $ranged run localhost/same:1 /bin/sh -c 'touch /x' 2>&1) && fail "the root was writable: $err"
echo "$err" | grep -q "Read-only file system" || fail "read-only root: $err"
assert_eq "$(user_kiln $ranged run -u 1000:50 localhost/same:1 /bin/sh -c 'id -u; id -g')" "$(printf '1000\n50')" "run -u"
assert_eq "$(user_kiln $ranged run --tmpfs /scratch localhost/same:1 /bin/sh -c 'echo ok > /scratch/f && cat /scratch/f')" ok "--tmpfs"
vol=$WORK/vol; mkdir "$vol"; echo host > "$vol/in"; chown -R $ranged: "$vol"
assert_eq "$(user_kiln $ranged run -v "$vol:/v" localhost/same:1 /bin/sh -c 'cat /v/in; echo back > /v/out')" host "-v of the user's directory"
assert_eq "$(cat "$vol/out")" back "a write through -v"
assert_eq "$(stat -c %U "$vol/out")" $ranged "the file written through -v is the user's on the host"
out=$(script -qec "setpriv --reuid=$ranged --regid=$ranged --init-groups env -i HOME=/home/$ranged PATH=/usr/bin:/bin \
  $WORK/bin/kiln run -t localhost/same:1 /bin/sh -c 'test -t 0 && echo tty-ok'" /dev/null < /dev/null | tr -d '\r')
assert_eq "$out" tty-ok "run -t rootless"
cid=$(user_kiln $ranged run -d --name rl-bg localhost/same:1 /bin/sh -c 'while :; do sleep 0.2; done')
assert_eq "$(user_kiln $ranged exec rl-bg cat /srv/a.txt)" copied "exec"
assert_eq "$(user_kiln $ranged ps -q | wc -l)" 1 "ps"
user_kiln $ranged stop -t 1 rl-bg >/dev/null
assert_eq "$(user_kiln $ranged ps -q | wc -l)" 0 "ps after stop"
# kill -9 of the supervising kiln: the container goes with it, the next command clears its state.
# Zombies wait for a reaper that is not ours; kiln-userns is the user's keeper (it leaves by itself, below).
alive() { ps -u $ranged -o stat=,comm= | grep -v '^Z' | grep -vc ' kiln-userns$' || true; }
setpriv --reuid=$ranged --regid=$ranged --init-groups env -i HOME="$(getent passwd $ranged | cut -d: -f6)" \
  PATH=/usr/bin:/bin "$WORK/bin/kiln" run --name rl-doomed localhost/same:1 /bin/sh -c 'while :; do sleep 1; done' &
kpid=$!
for _ in $(seq 50); do [ "$(ls "/tmp/kiln-$uid/containers" | grep -c json)" -eq 1 ] && break; sleep 0.1; done
sleep 0.3
kill -9 $kpid; wait $kpid 2>/dev/null || true
for _ in $(seq 50); do [ "$(alive)" -eq 0 ] && break; sleep 0.1; done
assert_eq "$(alive)" 0 "processes left after kill -9 of the user's kiln"
user_kiln $ranged ps -q >/dev/null
assert_eq "$(ls "/tmp/kiln-$uid/containers" | grep -c json)" 0 "state left after kill -9 of the user's kiln"
assert_eq "$(stat -c %U:%a "/tmp/kiln-$uid")" "$ranged:700" "the default run directory"

# The keeper of the user's namespace leaves once no kiln has used it for a while (two looks 10 s apart).
assert_eq "$(pgrep -u $ranged -x kiln-userns | wc -l)" 1 "one keeper for the user's kilns"
for _ in $(seq 1 40); do pgrep -u $ranged -x kiln-userns >/dev/null || break; sleep 1; done
assert_eq "$(pgrep -u $ranged -x kiln-userns | wc -l)" 0 "the keeper left after the last kiln"
[ ! -e "/tmp/kiln-$uid/userns.pid" ] || fail "the keeper left its name behind"

# A run directory in /tmp that is not the user's alone is refused.
rm -rf "/tmp/kiln-$uid"; mkdir -m 755 "/tmp/kiln-$uid"
expect_fail "is not a directory of yours alone" user_kiln $ranged run localhost/same:1
rm -rf "/tmp/kiln-$uid"

# --- refusals, one line each
expect_fail "need a delegated cgroup v2 subtree" user_kiln $ranged run -m 32m localhost/same:1 true
# With a cgroup v2 subtree delegated to the user (made here as systemd's Delegate=yes makes one: the directory
# and its cgroup.procs, cgroup.subtree_control and cgroup.threads the user's), the containers' cgroups go below
# it, and go with the container.
v2=/sys/fs/cgroup; [ -e $v2/cgroup.controllers ] || v2=/sys/fs/cgroup/unified
if [ -e $v2/cgroup.controllers ]; then
  deleg=$v2/deleg-test-$$
  mkdir "$deleg"
  chown $ranged "$deleg" "$deleg/cgroup.procs" "$deleg/cgroup.subtree_control" "$deleg/cgroup.threads"
  on_exit "pkill -9 -u $ranged; sleep 0.5; rmdir '$deleg'/kiln/kiln-* '$deleg/kiln' '$deleg' 2>/dev/null"
  did=$(in_cgroup "$deleg" user_kiln $ranged run -d --name rl-deleg localhost/same:1 /bin/sh -c 'while :; do sleep 0.2; done')
  [ -d "$deleg/kiln/kiln-${did:0:16}" ] || fail "rootless container with a delegated cgroup: not below it: $(find $v2 -name "kiln-${did:0:16}")"
  [ -n "$(cat "$deleg/kiln/kiln-${did:0:16}/cgroup.procs")" ] || fail "the delegated container cgroup holds no process"
  user_kiln $ranged stop -t 1 rl-deleg >/dev/null
  # A hybrid host keeps memory in v1, which a user cannot write: one line says the subtree lacks it.
  grep -qw memory $v2/cgroup.controllers ||
    expect_fail "the user's delegated cgroup does not offer the memory controller" in_cgroup "$deleg" user_kiln $ranged run -m 32m localhost/same:1 true
  [ ! -e "$deleg/kiln/kiln-${did:0:16}" ] || fail "the delegated container cgroup stayed after stop"
fi
pkill -9 -u $ranged -x kiln-userns || true  # no namespace to join: a new one is mapped
unshare -m bash -c "mount --bind /dev/null /usr/bin/newuidmap && setpriv --reuid=$ranged --regid=$ranged --init-groups \
  env -i HOME=/tmp PATH=/usr/bin:/bin $WORK/bin/kiln images" > /dev/null 2> "$WORK/nomap.err" && fail "ran without newuidmap"
grep -q "newuidmap and newgidmap .* not installed (apt-get install uidmap)" "$WORK/nomap.err" || fail "no newuidmap: $(cat "$WORK/nomap.err")"
was=$(cat /proc/sys/user/max_user_namespaces)
if (echo "$was" > /proc/sys/user/max_user_namespaces) 2>/dev/null; then
  on_exit "echo $was > /proc/sys/user/max_user_namespaces"
  pkill -9 -u $ranged -x kiln-userns || true
  echo 0 > /proc/sys/user/max_user_namespaces
  expect_fail "user namespaces are disabled (sysctl user.max_user_namespaces=0)" user_kiln $ranged images
  echo "$was" > /proc/sys/user/max_user_namespaces
else
  echo "note: /proc/sys is read-only here: the refusal without user namespaces is not tried"
fi

# --- a user without ranges: its own id alone; said once; images with other owners refused in one line
user_kiln $single import "$WORK/base.tar" localhost/base:1 > /dev/null 2> "$WORK/single.err"
grep -q "has no range in /etc/subuid" "$WORK/single.err" || fail "no note for a user without ranges: $(cat "$WORK/single.err")"
user_kiln $single images > /dev/null 2> "$WORK/single2.err"
[ ! -s "$WORK/single2.err" ] || fail "the note came twice: $(cat "$WORK/single2.err")"
assert_eq "$(user_kiln $single run localhost/base:1 /bin/sh -c 'id -u')" 0 "run as a user without ranges"
printf 'FROM localhost/base:1\nCOPY --chown=1000:50 a.txt /a\nRUN true\n' > "$ctx/Buildfile.single"
chmod a+r "$ctx/Buildfile.single"
expect_fail "is owned by 1000:50, which this rootless kiln cannot map" user_kiln $single build -q -f "$ctx/Buildfile.single" "$ctx"

# --- kiln-runtime as root of a user namespace an ordinary user made, as podman rootless runs its runtime: the
# state goes to $XDG_RUNTIME_DIR/kiln-runtime; with no cgroup it may write, the container has none (limits are
# refused in one line); /dev's nodes are the host's, bound (no mknod in a user namespace).
cp "$(dirname "$KILN")/kiln-runtime" "$WORK/bin/kiln-runtime" && chmod 755 "$WORK/bin/kiln-runtime"
rtb=$WORK/rt-bundle && make_busybox_rootfs "$rtb/rootfs" && (cd "$rtb" && "$WORK/bin/kiln-runtime" spec)
python3 - "$rtb/config.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c["process"].update(terminal=False, args=["sh", "-c", "echo x > /dev/null && echo devnull-ok; touch /x 2>/dev/null || echo root-ro; id -u; ls /sys/fs/cgroup /sys/fs/cgroup/unified 2>/dev/null | grep -q rl-marker || echo cgroups-own"])
# podman's cgroup mount without a cgroup namespace (its choice on cgroup v1): the user's own cgroups there, not
# the host's tree (where the test's marker cgroup is)
c["linux"]["namespaces"] = [n for n in c["linux"]["namespaces"] if n["type"] != "cgroup"]
c["mounts"].append({"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup", "options": ["nosuid", "noexec", "nodev", "relatime", "ro"]})
json.dump(c, open(sys.argv[1], "w"))
PY
chown -R $single "$rtb"  # the user's own files, as an engine's rootless storage holds them
xdg=$WORK/xdg-$(id -u $single) && mkdir -p "$xdg" && chown $single "$xdg" && chmod 700 "$xdg"
in_userns() { as_user $single env XDG_RUNTIME_DIR="$xdg" unshare --user --map-root-user --mount "$@"; }
marker=$(findmnt -n -o TARGET -t cgroup2 | head -1)/rl-marker-$$ && mkdir "$marker" && on_exit "rmdir '$marker'"
out=$(cd "$rtb" && in_userns "$WORK/bin/kiln-runtime" run rl1 2>&1) || fail "kiln-runtime in a user namespace: $out"
assert_eq "$(echo $out)" "devnull-ok root-ro 0 cgroups-own" "kiln-runtime in a user namespace"
out=$(cd "$rtb" && in_userns sh -c "'$WORK/bin/kiln-runtime' run -d rl2 >/dev/null && ls '$xdg/kiln-runtime' && '$WORK/bin/kiln-runtime' delete -f rl2" 2>&1) ||
  fail "kiln-runtime run -d in a user namespace: $out"
echo "$out" | grep -qx rl2 || fail "the state is not in \$XDG_RUNTIME_DIR/kiln-runtime: $out"
[ -z "$(ls -A "$xdg/kiln-runtime")" ] || fail "state left after delete: $(ls "$xdg/kiln-runtime")"
python3 -c 'import json,sys; c=json.load(open(sys.argv[1])); c["linux"]["resources"]={"memory": {"limit": 33554432}}; json.dump(c, open(sys.argv[1], "w"))' "$rtb/config.json"
(cd "$rtb" && expect_fail "linux.resources: limits need a cgroup this user namespace can write" in_userns "$WORK/bin/kiln-runtime" run rl3)
[ -z "$(ls -A "$xdg/kiln-runtime")" ] || fail "state left after a refused create: $(ls "$xdg/kiln-runtime")"

# --- kiln-runtime run by an ordinary user itself, with a user namespace in the config (runc's rootless mode):
# its own ids alone are mapped by kiln-runtime (setgroups denied first); other ranges go through newuidmap and
# newgidmap, which hold them to /etc/subuid and /etc/subgid; a range not the user's is one line.
python3 - "$rtb/config.json" "$(id -u $single)" "$(id -g $single)" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c["linux"].pop("resources", None)
c["linux"]["namespaces"].append({"type": "user"})
c["linux"]["uidMappings"] = [{"containerID": 0, "hostID": int(sys.argv[2]), "size": 1}]
c["linux"]["gidMappings"] = [{"containerID": 0, "hostID": int(sys.argv[3]), "size": 1}]
c["process"]["args"] = ["sh", "-c", "id -u; cat /proc/self/uid_map | wc -l"]
json.dump(c, open(sys.argv[1], "w"))
PY
out=$(cd "$rtb" && as_user $single env XDG_RUNTIME_DIR="$xdg" "$WORK/bin/kiln-runtime" run rl4 2>&1) || fail "rootless kiln-runtime, own ids: $out"
assert_eq "$(echo $out)" "0 1" "an ordinary user's kiln-runtime maps its own ids"
rrb=$WORK/rt-bundle-ranged && cp -a "$rtb" "$rrb" && chown -R $ranged "$rrb"
rxdg=$WORK/xdg-$uid && mkdir -p "$rxdg" && chown $ranged "$rxdg" && chmod 700 "$rxdg"
sub=$(grep "^$ranged:" /etc/subuid | cut -d: -f2)
python3 - "$rrb/config.json" "$uid" "$(id -g $ranged)" "$sub" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
own_u, own_g, sub = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
c["linux"]["uidMappings"] = [{"containerID": 0, "hostID": own_u, "size": 1}, {"containerID": 1, "hostID": sub, "size": 65536}]
c["linux"]["gidMappings"] = [{"containerID": 0, "hostID": own_g, "size": 1}, {"containerID": 1, "hostID": sub, "size": 65536}]
json.dump(c, open(sys.argv[1], "w"))
c["linux"]["uidMappings"][1]["hostID"] = sub + 65536  # not the user's
json.dump(c, open(sys.argv[1] + ".foreign", "w"))
PY
out=$(cd "$rrb" && as_user $ranged env XDG_RUNTIME_DIR="$rxdg" "$WORK/bin/kiln-runtime" run rl5 2>&1) || fail "rootless kiln-runtime, subuid range: $out"
assert_eq "$(echo $out)" "0 2" "an ordinary user's kiln-runtime maps its subuid range through newuidmap"
cp "$rrb/config.json.foreign" "$rrb/config.json"
(cd "$rrb" && expect_fail "linux.uidMappings: newuidmap refused the mapping" as_user $ranged env XDG_RUNTIME_DIR="$rxdg" "$WORK/bin/kiln-runtime" run rl6)
[ -z "$(ls -A "$rxdg/kiln-runtime" "$xdg/kiln-runtime" 2>/dev/null | grep -v -e '^$' -e ':$')" ] || fail "rootless kiln-runtime left state"

# Nothing of root's was touched: the root store is still clean.
assert_fsck_clean
