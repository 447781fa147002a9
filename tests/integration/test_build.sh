#!/usr/bin/env bash
# kiln build end to end, read back by tools nobody here wrote (umoci, skopeo); cache and reproducibility.
source "$(dirname "$0")/lib.sh"

make_busybox_rootfs "$WORK/base"
printf 'root:x:0:0:root:/root:/bin/sh\napp:x:1234:2345::/home/app:/bin/sh\n' > "$WORK/base/etc/passwd"
printf 'root:x:0:\napps:x:2345:\n' > "$WORK/base/etc/group"
tar -C "$WORK/base" -cf "$WORK/base.tar" .
kiln import "$WORK/base.tar" localhost/base:1 >/dev/null

ctx=$WORK/ctx
mkdir -p "$ctx/src/lib" "$ctx/secret" "$ctx/docs"
echo "main" > "$ctx/src/main.txt"; chmod 0640 "$ctx/src/main.txt"
echo "lib" > "$ctx/src/lib/util.txt"
ln -s main.txt "$ctx/src/link"
echo "do not ship" > "$ctx/secret/key"
echo "readme" > "$ctx/docs/README.md"; echo "notes" > "$ctx/docs/notes.md"
printf 'secret\n**/*.md\n!docs/README.md\n' > "$ctx/.dockerignore"
cat > "$ctx/Buildfile" <<'BF'
ARG BASE=localhost/base:1
FROM ${BASE} AS builder
ARG BASE
COPY src /build/src
COPY <<EOF /build/generated.txt
generated in ${BASE}
EOF

FROM ${BASE}
ARG VERSION=1.0
ENV APP_HOME=/opt/app VERSION=${VERSION}
WORKDIR $APP_HOME
COPY --from=builder /build/ ./
COPY --chown=app:apps --chmod=750 src/main.txt bin/main
COPY docs/ /docs/
LABEL org.opencontainers.image.version=$VERSION
EXPOSE 8080
USER app
STOPSIGNAL SIGINT
CMD ["/bin/sh", "-c", "cat $APP_HOME/bin/main"]
BF

kiln build -t localhost/app:1 --build-arg VERSION=2.5 "$ctx" > "$WORK/build1.out" 2> "$WORK/build1.err" || { cat "$WORK/build1.err"; fail "build failed"; }
umoci unpack --image "$KILN_ROOT:localhost/app:1" "$WORK/bundle" >/dev/null
r=$WORK/bundle/rootfs
assert_eq "$(cat "$r/opt/app/src/main.txt")" "main" "copied from the builder stage"
assert_eq "$(cat "$r/opt/app/src/lib/util.txt")" "lib" "directory contents copied"
assert_eq "$(readlink "$r/opt/app/src/link")" "main.txt" "symlink kept"
assert_eq "$(stat -c '%a %u %g' "$r/opt/app/src/main.txt")" "640 0 0" "mode kept, owner root"
assert_eq "$(cat "$r/opt/app/generated.txt")" "generated in localhost/base:1" "heredoc with expansion"
assert_eq "$(stat -c '%a %u %g' "$r/opt/app/bin/main")" "750 1234 2345" "--chown through the image's passwd/group, --chmod"
[ -f "$r/docs/README.md" ] || fail "ignore exception lost docs/README.md"
[ ! -e "$r/docs/notes.md" ] || fail "ignored docs/notes.md was copied"
[ ! -e "$r/secret" ] && [ ! -e "$r/build/secret" ] || fail "ignored secret/ was copied"
[ -x "$r/bin/busybox" ] || fail "base layer missing"
skopeo inspect --config "oci:$KILN_ROOT:localhost/app:1" > "$WORK/config.json"
assert_eq "$(json_get "$WORK/config.json" 'j["config"]["WorkingDir"]')" "/opt/app" "WorkingDir"
assert_eq "$(json_get "$WORK/config.json" 'j["config"]["User"]')" "app" "User"
assert_eq "$(json_get "$WORK/config.json" '"VERSION=2.5" in j["config"]["Env"]')" "True" "Env with --build-arg"
assert_eq "$(json_get "$WORK/config.json" 'j["config"]["Labels"]["org.opencontainers.image.version"]')" "2.5" "Labels"
assert_eq "$(json_get "$WORK/config.json" 'list(j["config"]["ExposedPorts"])')" "['8080/tcp']" "ExposedPorts"
assert_eq "$(json_get "$WORK/config.json" 'j["config"]["StopSignal"]')" "SIGINT" "StopSignal"
assert_eq "$(json_get "$WORK/config.json" 'j["config"]["Cmd"][-1]')" 'cat $APP_HOME/bin/main' "Cmd"
assert_eq "$(json_get "$WORK/config.json" 'len(j["history"]) - len([h for h in j["history"] if h.get("empty_layer")])')" \
          "$(json_get "$WORK/config.json" 'len(j["rootfs"]["diff_ids"])')" "one non-empty history entry per layer"
assert_eq "$(kiln run localhost/app:1)" "main" "the built image runs"

# No-op rebuild: every step CACHED, same digest.
id1=$(cat "$WORK/build1.out")
kiln build -t localhost/app:1 --build-arg VERSION=2.5 "$ctx" > "$WORK/build2.out" 2> "$WORK/build2.err"
assert_eq "$(cat "$WORK/build2.out")" "$id1" "no-op rebuild changed the image"
steps=$(grep -c '^\[' "$WORK/build2.err"); froms=$(grep -c '^\[[0-9]*/[0-9]*\] FROM' "$WORK/build2.err")
assert_eq "$(grep -c 'CACHED$' "$WORK/build2.err")" $((steps - froms)) "steps not CACHED on a no-op rebuild"
# The context's remembered file digests: one file per context, and builder prune drops them with the steps.
assert_eq "$(ls "$KILN_ROOT/kiln/cache/stat" | wc -l)" 1 "stat cache files for one context"
cp -a "$KILN_ROOT" "$WORK/store-before-prune"
KILN_ROOT=$WORK/store-before-prune kiln builder prune >/dev/null
assert_eq "$(ls "$WORK/store-before-prune/kiln/cache/stat" | wc -l)" 0 "builder prune left stat cache files"
assert_eq "$(ls "$WORK/store-before-prune/kiln/cache/steps" | wc -l)" 0 "builder prune left step records"
rm -rf "$WORK/store-before-prune"

# Changing one file rebuilds only the steps that read it (and those after).
echo "changed" > "$ctx/docs/README.md"
kiln build -t localhost/app:1 --build-arg VERSION=2.5 "$ctx" 2> "$WORK/build3.err" >/dev/null
grep -q 'COPY docs/ /docs/  [0-9.]*s$' "$WORK/build3.err" || fail "changed file's step was not rebuilt: $(cat "$WORK/build3.err")"
grep -q 'COPY --chown=app:apps --chmod=750 src/main.txt bin/main  CACHED' "$WORK/build3.err" || fail "an unrelated step was rebuilt"
grep -q 'COPY src /build/src  CACHED' "$WORK/build3.err" || fail "builder stage step was rebuilt"

# The proxy build args reach every RUN (BuildKit's), declared or not, and stay out of the cache key: another proxy
# rebuilds nothing, as with BuildKit (whose cache ignores them as well).
mkdir -p "$WORK/proxy"
printf 'FROM localhost/base:1\nRUN echo "$HTTP_PROXY $https_proxy" > /p\n' > "$WORK/proxy/Buildfile"
kiln build -q -t localhost/proxy:1 --build-arg HTTP_PROXY=http://p:1 --build-arg HTTPS_PROXY=http://s:2 "$WORK/proxy" >/dev/null
assert_eq "$(kiln run localhost/proxy:1 cat /p)" "http://p:1 http://s:2" "proxy build args in RUN"
kiln build -t localhost/proxy:2 --build-arg HTTP_PROXY=http://other:3 "$WORK/proxy" 2> "$WORK/proxy.err" >/dev/null
grep -q 'RUN echo .*CACHED$' "$WORK/proxy.err" || fail "another proxy rebuilt the RUN: $(cat "$WORK/proxy.err")"

# The caller's umask does not reach a RUN (runc's 022, as BuildKit's): the same digest under umask 077.
mkdir -p "$WORK/umask"
printf 'FROM localhost/base:1\nRUN mkdir /made && touch /made/f\n' > "$WORK/umask/Buildfile"
kiln build -q -t localhost/umask:022 "$WORK/umask" >/dev/null
(umask 077 && kiln build -q --no-cache -t localhost/umask:077 "$WORK/umask" >/dev/null)
digest_of() { kiln inspect "$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["Digest"])'; }
assert_eq "$(kiln run localhost/umask:077 ls -ld /made | cut -c1-10)" "drwxr-xr-x" "a dir a RUN made under umask 077"
assert_eq "$(digest_of localhost/umask:077)" "$(digest_of localhost/umask:022)" "digest under umask 077"
assert_eq "$( (umask 077 && kiln run localhost/umask:077 sh -c umask) )" "0022" "a container's umask"

# Reproducible: same Buildfile and context elsewhere, another store, another time → same manifest digest.
cp -a "$ctx" "$WORK/ctx-copy"
SOURCE_DATE_EPOCH=1700000000 kiln build -t localhost/repro:1 "$ctx" >/dev/null 2>&1
d1=$(kiln inspect localhost/repro:1 | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["Digest"])')
sleep 1
kiln save localhost/base:1 -o "$WORK/base-image.tar"
export KILN_ROOT=$WORK/store2
kiln load -i "$WORK/base-image.tar" >/dev/null
SOURCE_DATE_EPOCH=1700000000 kiln build --no-cache -t localhost/repro:1 "$WORK/ctx-copy" >/dev/null 2>&1
d2=$(kiln inspect localhost/repro:1 | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["Digest"])')
assert_eq "$d2" "$d1" "reproducible manifest digest"
export KILN_ROOT=$WORK/store

# ONBUILD: triggers stored in the config and run when the image is a base.
mkdir -p "$WORK/ob"; echo "from-trigger" > "$WORK/ob/trig.txt"
printf 'FROM localhost/base:1\nONBUILD COPY trig.txt /trig.txt\n' > "$WORK/ob/Buildfile"
kiln build -q -t localhost/onbuild:1 "$WORK/ob" >/dev/null
printf 'FROM localhost/onbuild:1\nCMD ["cat", "/trig.txt"]\n' > "$WORK/ob/Containerfile"
kiln build -q -f "$WORK/ob/Containerfile" -t localhost/child:1 "$WORK/ob" >/dev/null
assert_eq "$(kiln run localhost/child:1)" "from-trigger" "ONBUILD trigger ran"
kiln inspect localhost/child:1 > "$WORK/child.json"
assert_eq "$(json_get "$WORK/child.json" 'j[0]["Config"].get("OnBuild")')" "None" "triggers are not inherited"

# Bad input: one clear error naming file:line, nothing tagged, no temp files.
mkdir -p "$WORK/bad"; echo x > "$WORK/bad/f"
bad() { # bad PATTERN BUILDFILE-TEXT
  printf '%b' "$2" > "$WORK/bad/Buildfile"
  expect_fail "$1" kiln build -t localhost/bad:1 "$WORK/bad"
}
bad "Buildfile:2:1: unknown instruction: FROB" 'FROM localhost/base:1\nFROB x\n'
bad "Buildfile:2: COPY missing.txt: not found" 'FROM localhost/base:1\nCOPY missing.txt /x\n'
bad "outside the build context" 'FROM localhost/base:1\nCOPY ../../etc/passwd /x\n'
bad "Buildfile:1: FROM localhost/nope:1: no such image" 'FROM localhost/nope:1\n'
bad "Buildfile:2: step 2/2 RUN false: exit status 1" 'FROM localhost/base:1\nRUN false\n'
bad "stage cycle" 'FROM localhost/base:1 AS a\nCOPY --from=b /x /x\nFROM localhost/base:1 AS b\nCOPY --from=a /y /y\n'
bad "not valid UTF-8" 'FROM localhost/base:1\nLABEL a=\xff\n'
printf "FROM localhost/base:1\n" > "$WORK/bad/Buildfile"
expect_fail "no stage of that name" kiln build --target nope "$WORK/bad"
mkdir -p "$WORK/empty"
expect_fail "no Buildfile, Containerfile or Dockerfile" kiln build "$WORK/empty"
expect_fail "no such image" kiln inspect localhost/bad:1
assert_eq "$(ls "$KILN_ROOT/kiln/tmp" | wc -l)" 0 "temp files left by builds"
assert_fsck_clean
