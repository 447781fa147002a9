#!/usr/bin/env bash
# RUN steps on a busybox base built FROM scratch: changes become layers that umoci reads back exactly;
# cache mounts persist; secrets never reach a layer; failures are clean; reproducible digests.
source "$(dirname "$0")/lib.sh"
export KILN_RUN_DIR=$WORK/run

ctx=$WORK/ctx
mkdir -p "$ctx"
cp /bin/busybox "$ctx/busybox"
echo "s3cr3t-value" > "$WORK/secret.txt"
cat > "$ctx/Buildfile" <<'BF'
FROM scratch
COPY busybox /bin/busybox
RUN ["/bin/busybox", "--install", "-s", "/bin"]
RUN mkdir -p /data/keep /data/replace /etc && echo one > /data/keep/a && echo old > /data/replace/old \
 && echo gone > /data/keep/gone && echo 'root:x:0:0:root:/root:/bin/sh' > /etc/passwd
RUN echo two >> /data/keep/a && chmod 0600 /data/keep/a && rm /data/keep/gone \
 && rm -rf /data/replace && mkdir /data/replace && echo new > /data/replace/new
RUN --mount=type=cache,target=/var/cache/kiln-test echo run >> /var/cache/kiln-test/count && wc -l < /var/cache/kiln-test/count
RUN --mount=type=secret,id=token cat /run/secrets/token > /dev/null && echo "secret was readable"
RUN --mount=type=secret,id=token,env=TOKEN case "$TOKEN" in s3cr3t-v*) echo "secret env was set";; esac \
 && [ ! -e /run/secrets/token ]
RUN true
WORKDIR /data
CMD ["cat", "/data/keep/a"]
BF

kiln build -t localhost/runs:1 --secret id=token,src="$WORK/secret.txt" "$ctx" > "$WORK/b1.out" 2> "$WORK/b1.err" \
  || { cat "$WORK/b1.err"; fail "build failed"; }
grep -q '| secret was readable' "$WORK/b1.err" || fail "secret step output missing: $(cat "$WORK/b1.err")"
grep -q '| secret env was set' "$WORK/b1.err" || fail "secret env=: $(cat "$WORK/b1.err")"
grep -q '| 1$' "$WORK/b1.err" || fail "cache mount count on the first build"
umoci unpack --image "$KILN_ROOT:localhost/runs:1" "$WORK/bundle" >/dev/null
r=$WORK/bundle/rootfs
assert_eq "$(cat "$r/data/keep/a")" "$(printf 'one\ntwo')" "changed file"
assert_eq "$(stat -c %a "$r/data/keep/a")" "600" "chmod in a later step"
[ ! -e "$r/data/keep/gone" ] || fail "a file deleted in a later step is still there (whiteout lost)"
[ ! -e "$r/data/replace/old" ] || fail "a replaced directory kept old content (opaque/whiteout lost)"
assert_eq "$(cat "$r/data/replace/new")" "new" "replaced directory"
[ -L "$r/bin/sh" ] || fail "busybox --install links missing"
grep -rq "s3cr3t-value" "$r" && fail "the secret is in the image's files"
for blob in "$KILN_ROOT"/blobs/sha256/*; do
  if gzip -t "$blob" 2>/dev/null; then zcat "$blob" | has_line "s3cr3t-value" && fail "the secret is in a layer"; fi
  grep -q "s3cr3t-value" "$blob" && fail "the secret is in a blob (config/history?)"
done
history=$(kiln inspect localhost/runs:1 | python3 -c 'import json,sys; c=json.load(sys.stdin)[0]["ImageConfig"]; print(sum(1 for h in c["history"] if h.get("empty_layer")))')
# The cache-mount and secret steps leave their mountpoint directories (/var/cache/kiln-test, /run/secrets), as
# BuildKit's RUN leaves what it mounted on (tests/conformance/cases/run-cache-mount). RUN true changes nothing but
# keeps a layer, an empty tar, as BuildKit's RUN does, and so does WORKDIR of a directory that is there; CMD has
# none. The image has the empty layer twice, which overlay would refuse as a lower dir given twice: it runs below.
assert_eq "$history" 1 "only CMD is empty_layer"
assert_eq "$(kiln inspect localhost/runs:1 | python3 -c 'import json,sys; print(" ".join(l["DiffID"][7:19] for l in json.load(sys.stdin)[0]["Layers"][-2:]))')" \
  "5f70bf18a086 5f70bf18a086" "RUN true's and WORKDIR's layers are the empty tar"
[ -d "$r/var/cache/kiln-test" ] && [ -z "$(ls -A "$r/var/cache/kiln-test")" ] || fail "the cache mount's target is not left empty"
assert_eq "$(kiln run localhost/runs:1)" "$(printf 'one\ntwo')" "the built image runs"

# The cache mount persists: a rebuild of that step (--no-cache) sees the first run's file.
kiln build --no-cache -t localhost/runs:2 --secret id=token,src="$WORK/secret.txt" "$ctx" > "$WORK/b2.out" 2> "$WORK/b2.err"
grep -q '| 2$' "$WORK/b2.err" || fail "cache mount did not persist: $(grep '|' "$WORK/b2.err")"

# A no-op rebuild runs nothing.
kiln build -t localhost/runs:1 --secret id=token,src="$WORK/secret.txt" "$ctx" > "$WORK/b3.out" 2> "$WORK/b3.err"
grep -q '| ' "$WORK/b3.err" && fail "a cached RUN ran again"
assert_eq "$(cat "$WORK/b3.out")" "$(cat "$WORK/b2.out")" "no-op rebuild digest (the cache holds the last build)"

# Reproducible with SOURCE_DATE_EPOCH when the commands are.
printf 'FROM scratch\nCOPY busybox /bin/busybox\nRUN ["/bin/busybox", "sh", "-c", "/bin/busybox mkdir /out && echo fixed > /out/f"]\n' > "$ctx/Buildfile.repro"
a=$(SOURCE_DATE_EPOCH=1700000000 kiln build -q --no-cache -f "$ctx/Buildfile.repro" "$ctx")
b=$(SOURCE_DATE_EPOCH=1700000000 kiln build -q --no-cache -f "$ctx/Buildfile.repro" "$ctx")
assert_eq "$a" "$b" "reproducible RUN build"

# A failing command: exit status and last lines, nothing tagged, nothing left mounted or running.
mounts_before=$(grep -c . /proc/self/mountinfo)
printf 'FROM localhost/runs:1\nRUN echo first line; echo the-last-words; exit 3\n' > "$ctx/Buildfile.fail"
rc=0; kiln build -t localhost/failed:1 -f "$ctx/Buildfile.fail" "$ctx" > /dev/null 2> "$WORK/fail.err" || rc=$?
[ $rc -ne 0 ] || fail "failing RUN did not fail the build"
grep -q "step 2/2 RUN .*exit status 3" "$WORK/fail.err" || fail "error lacks the step and status: $(cat "$WORK/fail.err")"
grep -q "the-last-words" "$WORK/fail.err" || fail "error lacks the last output lines"
expect_fail "no such image" kiln inspect localhost/failed:1
assert_eq "$(grep -c . /proc/self/mountinfo)" "$mounts_before" "mounts left after a failed RUN"
assert_eq "$(ls "$KILN_RUN_DIR" 2>/dev/null | wc -l)" 0 "containers left after a failed RUN"
assert_eq "$(ls "$KILN_ROOT/kiln/tmp" | wc -l)" 0 "temp dirs left after a failed RUN"

# Ctrl-C during a RUN that never ends: the build stops and cleans up the same way.
printf 'FROM localhost/runs:1\nRUN sleep 1000\n' > "$ctx/Buildfile.hang"
"$KILN" build -t localhost/hang:1 -f "$ctx/Buildfile.hang" "$ctx" > /dev/null 2> "$WORK/hang.err" &
kpid=$!
sleep 1.5; kill -INT $kpid
rc=0; wait $kpid || rc=$?
assert_eq "$rc" 130 "exit code of a build cancelled by Ctrl-C"
grep -q "^kiln: build cancelled (SIGINT) in step 2/2 RUN at .*Buildfile.hang:2; nothing was tagged$" "$WORK/hang.err" \
  || fail "Ctrl-C's message: $(cat "$WORK/hang.err")"
grep -q "exit status" "$WORK/hang.err" && fail "a cancelled build reports the RUN's exit status"
expect_fail "no such image" kiln inspect localhost/hang:1
assert_eq "$(grep -c . /proc/self/mountinfo)" "$mounts_before" "mounts left after Ctrl-C"
assert_eq "$(ls "$KILN_ROOT/kiln/tmp" | wc -l)" 0 "temp dirs left after Ctrl-C"

# A required secret for an environment variable that was not given: one line naming it.
printf 'FROM localhost/runs:1\nRUN --mount=type=secret,id=absent,env=X,required echo never\n' > "$ctx/Buildfile.secretenv"
expect_fail "Buildfile.secretenv:2: secret absent was not given" kiln build -f "$ctx/Buildfile.secretenv" "$ctx"
# COPY merges a directory into the image's, but a file where the image has a directory is refused, as BuildKit
# does; an ADDed archive replaces it, as docker's untar does.
mkdir -p "$ctx/rep/keep" "$ctx/merge/keep"
rmdir "$ctx/rep/keep"; echo file > "$ctx/rep/keep"; echo merged > "$ctx/merge/keep/new"
printf 'FROM localhost/runs:1\nCOPY rep/ /data/\n' > "$ctx/Buildfile.replace"
expect_fail "Buildfile.replace:2: COPY: cannot replace the directory /data/keep of the image with a file" \
  kiln build -f "$ctx/Buildfile.replace" "$ctx"
printf 'FROM localhost/runs:1\nCOPY merge/ /data/\n' > "$ctx/Buildfile.merge"
kiln build -q -t localhost/merge:1 -f "$ctx/Buildfile.merge" "$ctx" > /dev/null || fail "COPY merging into a directory"
assert_eq "$(kiln run localhost/merge:1 cat /data/keep/a /data/keep/new)" "$(printf 'one\ntwo\nmerged')" "merged directory"
tar -C "$ctx/rep" -cf "$ctx/rep.tar" keep
printf 'FROM localhost/runs:1\nADD rep.tar /data/\n' > "$ctx/Buildfile.untar"
kiln build -q -t localhost/untar:1 -f "$ctx/Buildfile.untar" "$ctx" > /dev/null || fail "ADD of an archive over a directory"
assert_eq "$(kiln run localhost/untar:1 cat /data/keep)" "file" "an archive's file replaces the directory"

# kiln build - reads the context from stdin, as docker: a tarball (plain, gzip, zstd; -f names a file in it) or a
# Buildfile alone with an empty context. The same context gives the same image whichever way it came.
sctx=$WORK/stdin-ctx
mkdir -p "$sctx/sub"
echo payload > "$sctx/sub/data"
printf 'FROM localhost/runs:1\nCOPY sub/data /data-from-tar\n' > "$sctx/sub/Other"
cp "$sctx/sub/Other" "$sctx/Dockerfile"
touch -d @1700000000 "$sctx/sub/data" "$sctx/sub" "$sctx"
plain=$(tar -C "$sctx" -cf - . | kiln build -q -) || fail "build - of a tarball"
assert_eq "$(tar -C "$sctx" -czf - . | kiln build -q -)" "$plain" "build - of a gzip tarball"
assert_eq "$(tar -C "$sctx" -cf - . | zstd -q | kiln build -q -)" "$plain" "build - of a zstd tarball"
assert_eq "$(tar -C "$sctx" -cf - sub | kiln build -q -f sub/Other -)" "$plain" "build -f PATH - names a file of the tarball"
assert_eq "$(kiln run "$plain" cat /data-from-tar)" "payload" "the tarball's file in the image"
printf 'FROM localhost/runs:1\nLABEL from=stdin\n' | kiln build -q -t localhost/stdin:0 - > /dev/null \
  || fail "build - of a Buildfile"
assert_eq "$(kiln inspect -f '{{.Config.Labels.from}}' localhost/stdin:0)" "stdin" "a Buildfile alone on stdin"
expect_fail "<stdin>:2: COPY sub/data: not found in the build context" \
  kiln build - < "$sctx/Dockerfile"
expect_fail "the context tarball on stdin has no Buildfile, Containerfile or Dockerfile" \
  sh -c "tar -C '$sctx' -cf - sub | '$KILN' build -"
expect_fail "is bzip2 or xz compressed" sh -c "tar -C '$sctx' -cjf - . | '$KILN' build -"
expect_fail "refusing entry" sh -c "printf 'FROM scratch\\n' > '$WORK/Dockerfile' && tar -C '$WORK' -cf - Dockerfile \
  --transform 's,^,../../,' | '$KILN' build -"
assert_eq "$(ls "$KILN_ROOT/kiln/tmp" | wc -l)" 0 "temp dirs left by build -"

# -f - reads the Buildfile from stdin, the context still the directory's; a --build-arg no ARG declares is
# warned about (proxy variables are not); a bad -t is refused before any step runs.
printf 'FROM localhost/runs:1\nARG USED\nRUN echo "used=$USED" > /used\n' |
  kiln build -t localhost/stdin:1 --build-arg USED=yes --build-arg NOBODY=1 --build-arg HTTP_PROXY=x -f - "$ctx" \
    > /dev/null 2> "$WORK/stdin.err" || fail "build -f -: $(cat "$WORK/stdin.err")"
assert_eq "$(kiln run localhost/stdin:1 cat /used)" "used=yes" "a Buildfile from stdin"
assert_eq "$(grep Warning "$WORK/stdin.err")" "[Warning] One or more build-args [NOBODY] were not consumed" \
  "the unused build-arg warning"
# --log-level error silences the warning; -D (--log-level debug) adds kiln's debug lines, here each step's
# cache lookup; a word that is no level is refused.
printf 'FROM localhost/runs:1\nARG USED\nRUN echo "used=$USED" > /used\n' |
  kiln build --log-level error --build-arg USED=yes --build-arg NOBODY=1 -f - "$ctx" > /dev/null 2> "$WORK/quiet.err"
grep -q Warning "$WORK/quiet.err" && fail "--log-level error printed a warning: $(cat "$WORK/quiet.err")"
printf 'FROM localhost/runs:1\nARG USED\nRUN echo "used=$USED" > /used\n' |
  kiln -D build --build-arg USED=yes -f - "$ctx" > /dev/null 2> "$WORK/debug.err"
grep -q "^kiln: debug: build: <stdin>:3: cache key [0-9a-f]\{12\}, found$" "$WORK/debug.err" \
  || fail "-D showed no cache lookup: $(cat "$WORK/debug.err")"
expect_fail '--log-level: "loud" is no level' kiln --log-level loud images
printf 'FROM localhost/runs:1\nRUN nosuchcommand\n' > "$ctx/Buildfile.badtag"
expect_fail 'kiln: -t: invalid reference "Bad/Name:1": repository name must be lowercase' \
  kiln build -t Bad/Name:1 -f "$ctx/Buildfile.badtag" "$ctx"
printf 'FROM scratch\nRUN true\n' | expect_fail '<stdin>:2: ' kiln build -f - "$ctx"

# RUN --mount=type=bind,rw: the step may write into the bound context, and nothing of it reaches the context
# or the image (BuildKit's semantics); a read-only bind refuses writes.
mkdir -p "$ctx/data"; echo original > "$ctx/data/f"
printf 'FROM localhost/runs:1\nRUN --mount=type=bind,source=data,target=/d,rw echo changed > /d/f && echo new > /d/g && cat /d/f > /seen\nRUN --mount=type=bind,source=data,target=/d sh -c "echo x > /d/h" 2>/dev/null || echo refused > /ro\n' > "$ctx/Buildfile.rw"
kiln build -q -t localhost/rw:1 -f "$ctx/Buildfile.rw" "$ctx" >/dev/null
assert_eq "$(cat "$ctx/data/f")" "original" "the context after a rw bind"
[ -e "$ctx/data/g" ] && fail "a rw bind wrote into the context"
assert_eq "$(kiln run localhost/rw:1 cat /seen)" "changed" "the step saw its own write"
assert_eq "$(kiln run localhost/rw:1 cat /ro)" "refused" "a read-only bind took a write"
assert_eq "$(kiln run localhost/rw:1 sh -c 'ls /d 2>/dev/null | wc -l')" "0" "bind contents left in the image"
assert_eq "$(grep -c . /proc/self/mountinfo)" "$mounts_before" "mounts left after rw binds"

# A RUN step gets the same device allow list: a node it makes for loop-control does not open.
printf 'FROM localhost/runs:1\nRUN mknod /lc c 10 237 && (exec 3</lc) 2>/dev/null || echo refused > /dev-check\n' > "$ctx/Buildfile.dev"
kiln build -q -t localhost/dev:1 -f "$ctx/Buildfile.dev" "$ctx" >/dev/null
assert_eq "$(kiln run localhost/dev:1 cat /dev-check)" "refused" "a device outside the allow list opened in a RUN step"

# RUN --mount=type=ssh reaches the agent given with --ssh (kiln binds its socket); SSH_AUTH_SOCK names it.
# Without --ssh the step runs without it, unless the mount is required.
cc -O2 -static -o "$ctx/agent_ask" "$(dirname "$0")/fixtures/agent_ask.c" || fail "cc agent_ask.c"
ssh-keygen -q -t ed25519 -N '' -f "$WORK/agent_key"
ssh-agent -D -a "$WORK/agent.sock" > /dev/null 2>&1 &
agent_pid=$!
on_exit "kill $agent_pid 2>/dev/null"
for _ in $(seq 50); do [ -S "$WORK/agent.sock" ] && break; sleep 0.1; done
SSH_AUTH_SOCK=$WORK/agent.sock ssh-add -q "$WORK/agent_key" 2>/dev/null || fail "ssh-add"
printf 'FROM localhost/runs:1\nCOPY agent_ask /agent_ask\nRUN --mount=type=ssh /agent_ask > /agent-keys; echo "$SSH_AUTH_SOCK" > /agent-sock\n' > "$ctx/Buildfile.ssh"
kiln build -q --no-cache -t localhost/ssh:1 --ssh default="$WORK/agent.sock" -f "$ctx/Buildfile.ssh" "$ctx" > /dev/null \
  || fail "build with --ssh"
assert_eq "$(kiln run localhost/ssh:1 cat /agent-keys /agent-sock)" "$(printf 'keys: 1\n/run/buildkit/ssh_agent.0')" \
  "the agent as the RUN step saw it"
SSH_AUTH_SOCK=$WORK/agent.sock kiln build -q --no-cache -t localhost/ssh:2 --ssh default -f "$ctx/Buildfile.ssh" "$ctx" \
  > /dev/null || fail "build with --ssh default from SSH_AUTH_SOCK"
assert_eq "$(kiln run localhost/ssh:2 cat /agent-keys)" "keys: 1" "--ssh default takes SSH_AUTH_SOCK"
kill "$agent_pid"; wait "$agent_pid" 2>/dev/null || true
kiln build -q --no-cache -t localhost/ssh:3 -f "$ctx/Buildfile.ssh" "$ctx" > /dev/null || fail "an optional ssh mount with no --ssh"
assert_eq "$(kiln run localhost/ssh:3 cat /agent-sock)" "/run/buildkit/ssh_agent.0" "SSH_AUTH_SOCK without an agent"
printf 'FROM localhost/runs:1\nRUN --mount=type=ssh,id=deploy,required true\n' > "$ctx/Buildfile.sshreq"
expect_fail "Buildfile.sshreq:2: ssh agent deploy was not given (kiln build --ssh deploy=SOCKET)" \
  kiln build -f "$ctx/Buildfile.sshreq" "$ctx"
expect_fail "is not an agent's socket" kiln build --ssh default="$WORK/agent_key" -f "$ctx/Buildfile.ssh" "$ctx"
(unset SSH_AUTH_SOCK; expect_fail "SSH_AUTH_SOCK is not set" kiln build --ssh default -f "$ctx/Buildfile.ssh" "$ctx")

# A secret id or cache id cannot reach the host.
printf 'FROM localhost/runs:1\nRUN --mount=type=bind,source=../../../../etc,target=/x ls /x\n' > "$ctx/Buildfile.escape"
expect_fail "outside the build context" kiln build -f "$ctx/Buildfile.escape" "$ctx"
assert_fsck_clean
