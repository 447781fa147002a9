#!/usr/bin/env bash
# Stages that need nothing unbuilt are built at once, each by a worker process: they really run together, the
# image is the same as a build in order (--jobs 1), a failing stage stops the others with its own error, and
# Ctrl-C ends every worker; nothing is left behind in any of these.
source "$(dirname "$0")/lib.sh"
export KILN_RUN_DIR=$WORK/run

ctx=$WORK/ctx
mkdir -p "$ctx"
cp /bin/busybox "$ctx/busybox"
base='FROM scratch AS base
COPY busybox /bin/busybox
RUN ["/bin/busybox", "--install", "-s", "/bin"]'
mounts_before=$(grep -c . /proc/self/mountinfo)

# Four stages, each making a file of its own; the last copies them all. Sequential and parallel builds, both
# without the cache and at one timestamp, give one image.
cat > "$ctx/Buildfile" <<BF
$base
$(for s in a b c d; do printf 'FROM base AS %s\nRUN seq 1 20000 | sed s/^/%s/ > /%s.txt && echo made %s\n' $s $s $s $s; done)
FROM base
COPY --from=a /a.txt /out/
COPY --from=b /b.txt /out/
COPY --from=c /c.txt /out/
COPY --from=d /d.txt /out/
BF
export SOURCE_DATE_EPOCH=1700000000
kiln build --no-cache --jobs 4 --progress plain -t localhost/par:1 "$ctx" > "$WORK/par.id" 2> "$WORK/par.err" \
  || { cat "$WORK/par.err"; fail "parallel build failed"; }
kiln build --no-cache --jobs 1 --progress plain -t localhost/seq:1 "$ctx" > "$WORK/seq.id" 2> "$WORK/seq.err" \
  || { cat "$WORK/seq.err"; fail "sequential build failed"; }
assert_eq "$(cat "$WORK/par.id")" "$(cat "$WORK/seq.id")" "image ID of the parallel and the sequential build"
assert_eq "$(kiln inspect -f '{{.Digest}}' localhost/par:1)" "$(kiln inspect -f '{{.Digest}}' localhost/seq:1)" \
  "manifest digest of the parallel and the sequential build"
for s in a b c d; do
  grep -q "| made $s\$" "$WORK/par.err" || fail "stage $s's output is missing: $(cat "$WORK/par.err")"
  assert_eq "$(grep -c "RUN seq 1 20000 | sed s/^/$s/" "$WORK/par.err")" 1 "stage $s's RUN line printed once"
done
# Each line whole (the workers share stderr), and the step numbers those of the sequential build.
broken=$(grep -v '^\[' "$WORK/par.err" | grep -v '^built ' || true)
[ -z "$broken" ] || fail "a broken line in the parallel output: $broken (all: $(cat "$WORK/par.err"))"
assert_eq "$(grep -o '^\[[0-9]*/[0-9]*\] [A-Z]*' "$WORK/par.err" | sort -u)" \
  "$(grep -o '^\[[0-9]*/[0-9]*\] [A-Z]*' "$WORK/seq.err" | sort -u)" "step numbers of the parallel build"
grep -q "^built .* in 16 steps (0 cached)" "$WORK/par.err" || fail "summary: $(tail -1 "$WORK/par.err")"
kiln build --jobs 4 --progress plain "$ctx" > /dev/null 2> "$WORK/again.err"
grep -q "^built .* in 16 steps (10 cached)" "$WORK/again.err" || fail "cached rebuild: $(cat "$WORK/again.err")"
unset SOURCE_DATE_EPOCH

# They run at once: stage a waits for stage b to connect to it (a sequential build would time out).
port=$(free_port)
cat > "$ctx/Buildfile.meet" <<BF
$base
FROM base AS a
RUN timeout 30 nc -l -p $port > /got && cat /got
FROM base AS b
RUN for i in \$(seq 1 200); do echo hello-from-b | timeout 3 nc 127.0.0.1 $port && exit 0; sleep 0.1; done; exit 1
FROM base
COPY --from=a /got /got
COPY --from=b /bin/busybox /b
BF
kiln build --jobs 2 --no-cache --progress plain -t localhost/meet:1 -f "$ctx/Buildfile.meet" "$ctx" > /dev/null \
  2> "$WORK/meet.err" || { cat "$WORK/meet.err"; fail "two stages that need each other did not run at once"; }
grep -q "| hello-from-b" "$WORK/meet.err" || fail "stage a did not hear stage b: $(cat "$WORK/meet.err")"
assert_eq "$(kiln run --rm localhost/meet:1 cat /got)" "hello-from-b" "what stage a kept"

# A failing stage: its error (file:line), not the one it stopped; the long stage beside it ends at once.
cat > "$ctx/Buildfile.fail" <<BF
$base
FROM base AS slow
RUN sleep 60 && touch /slow-done
FROM base AS broken
RUN echo the-broken-words && exit 3
FROM base
COPY --from=slow /slow-done /
COPY --from=broken /bin /x
BF
t0=$(date +%s)
rc=0
kiln build --jobs 2 --no-cache -t localhost/fail:1 -f "$ctx/Buildfile.fail" "$ctx" > /dev/null 2> "$WORK/fail.err" || rc=$?
assert_eq "$rc" 1 "exit code of a build whose stage failed"
grep -q "Buildfile.fail:7" "$WORK/fail.err" || fail "the error does not name the failing RUN: $(cat "$WORK/fail.err")"
grep -q "exit status 3" "$WORK/fail.err" || fail "the error lacks the exit status: $(cat "$WORK/fail.err")"
grep -q "^kiln: .*cancelled" "$WORK/fail.err" && fail "the stopped stage's error was reported: $(cat "$WORK/fail.err")"
[ $(($(date +%s) - t0)) -lt 45 ] || fail "the other stage ran on after one failed"
# A worker stopped while it was starting its container leaves it to PR_SET_PDEATHSIG: gone a moment later.
for _ in $(seq 1 50); do pgrep -f "sleep 60" >/dev/null || break; sleep 0.1; done
pgrep -f "sleep 60" >/dev/null && fail "the stopped stage's RUN is still running"
expect_fail "no such image" kiln inspect localhost/fail:1

# --from is read as written (BuildKit expands no variable there): a $VAR naming a stage is one clear error, not
# a stage built out of plan order (which aborted kiln once). The same for RUN --mount from=.
printf '%s\nARG SRC=base\nFROM base\nARG SRC\nCOPY --from=$SRC /bin/busybox /b\n' "$base" > "$ctx/Buildfile.fromvar"
expect_fail 'Buildfile.fromvar:7: --from=$SRC is neither' kiln build -q -f "$ctx/Buildfile.fromvar" "$ctx"
printf '%s\nARG SRC=base\nFROM base\nARG SRC\nRUN --mount=from=$SRC,target=/m true\n' "$base" > "$ctx/Buildfile.fromvar"
expect_fail 'Buildfile.fromvar:7: --from=$SRC is neither' kiln build -q -f "$ctx/Buildfile.fromvar" "$ctx"

# Ctrl-C (SIGINT to kiln alone) while two stages run: every worker and its RUN ends; exit 130.
cat > "$ctx/Buildfile.hang" <<BF
$base
FROM base AS x
RUN sleep 1001
FROM base AS y
RUN sleep 1002
FROM base
COPY --from=x / /x
COPY --from=y / /y
BF
kiln build -q --target base -f "$ctx/Buildfile.hang" "$ctx" > /dev/null  # the base cached: both start at once
"$KILN" build --jobs 2 -f "$ctx/Buildfile.hang" "$ctx" > /dev/null 2> "$WORK/hang.err" &
kpid=$!
for _ in $(seq 1 100); do [ "$(pgrep -c -f 'sleep 100[12]')" = 2 ] && break; sleep 0.1; done
assert_eq "$(pgrep -c -f 'sleep 100[12]')" 2 "both stages' RUNs running"
kill -INT $kpid
rc=0; wait $kpid || rc=$?
assert_eq "$rc" 130 "exit code of a parallel build cancelled by Ctrl-C"
grep -q "^kiln: build cancelled (SIGINT) in step [0-9]*/10 RUN at .*Buildfile.hang:[57]; nothing was tagged$" \
  "$WORK/hang.err" || fail "Ctrl-C's message: $(cat "$WORK/hang.err")"
for _ in $(seq 1 50); do pgrep -f 'sleep 100[12]' >/dev/null || break; sleep 0.1; done
pgrep -f 'sleep 100[12]' >/dev/null && fail "a stage's RUN outlived the cancelled build"

# Nothing left by any of it.
assert_eq "$(grep -c . /proc/self/mountinfo)" "$mounts_before" "mounts left"
assert_eq "$(ls "$KILN_RUN_DIR" 2>/dev/null | wc -l)" 0 "containers left"
assert_eq "$(ls "$KILN_ROOT/kiln/tmp" | wc -l)" 0 "temp dirs left"
assert_fsck_clean
