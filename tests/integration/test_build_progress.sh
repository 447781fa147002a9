#!/usr/bin/env bash
# kiln build --progress: the live display on a terminal (frames captured from a pseudo-terminal: the running
# step's timer ticks, a RUN's last output lines sit under it, cached steps are one CACHED line, a total ends it),
# plain lines, quiet, $BUILDKIT_PROGRESS, and the refusals.
source "$(dirname "$0")/lib.sh"
pty_run() { python3 "$(dirname "$0")/fixtures/pty_run.py" "$@"; }
# frames FILE: the captured bytes with the display's cursor moves as line breaks, one drawn line per line
frames() { python3 -c 'import re,sys; d=open(sys.argv[1],"rb").read().decode(); print(re.sub(r"\x1b\[[0-9]*[AJ]|\r", "", d))' "$1"; }

ctx=$WORK/ctx
mkdir -p "$ctx"
cp /bin/busybox "$ctx/busybox"
cat > "$ctx/Buildfile" <<'BF'
FROM scratch
COPY busybox /bin/busybox
RUN ["/bin/busybox", "--install", "-s", "/bin"]
ENV A=1
RUN for i in 1 2 3 4 5 6 7 8 9; do echo "out line $i"; sleep 0.15; done
RUN sleep 1.2
BF

# tty: frames drawn in place, the timer of the running step ticking.
pty_run "$KILN" build --progress tty -t localhost/progress:1 "$ctx" > "$WORK/tty.bin" || fail "tty build: $(frames "$WORK/tty.bin")"
frames "$WORK/tty.bin" > "$WORK/tty.txt"
grep -q $'\x1b\\[[0-9]*A' "$WORK/tty.bin" || fail "the tty display never redrew in place"
ticks=$(grep -o '=> \[6/6\] RUN sleep 1.2  [0-9.]*s$' "$WORK/tty.txt" | sort -u | wc -l)
[ "$ticks" -ge 5 ] || fail "the running step's timer showed $ticks values: $(grep 'RUN sleep' "$WORK/tty.txt")"
grep -q '^ => => # out line 5$' "$WORK/tty.txt" || fail "no RUN output under its step: $(cat "$WORK/tty.txt")"
grep -q '^\[+\] Building [0-9.]*s (6/6) FINISHED$' "$WORK/tty.txt" || fail "no total at the end: $(tail -5 "$WORK/tty.txt")"
grep -q '^built [0-9a-f]\{12\} in 6 steps (0 cached), tagged localhost/progress:1$' "$WORK/tty.txt" || fail "no summary"
# Each finished step is printed once, with its time in hundredths (a running one shows tenths), in order.
assert_eq "$(grep -E '^ => \[[0-9]/6\] .*  [0-9]+\.[0-9]{2}s$' "$WORK/tty.txt" | cut -c5-9 | tr '\n' ' ')" \
  "[2/6] [3/6] [4/6] [5/6] [6/6] " "the finished steps"
# A rebuild: every step from the cache, one CACHED line each.
pty_run "$KILN" build --progress tty -t localhost/progress:1 "$ctx" > "$WORK/cached.bin"
frames "$WORK/cached.bin" > "$WORK/cached.txt"
assert_eq "$(grep -c '^ => CACHED \[[2-6]/6\] ' "$WORK/cached.txt")" 5 "cached steps, one line each"

# auto on a terminal is the display; plain on a terminal is lines without cursor moves, as in a log.
pty_run "$KILN" build --no-cache -t localhost/progress:2 "$ctx" > "$WORK/auto.bin"
grep -q '(6/6) FINISHED' "$WORK/auto.bin" || fail "auto on a terminal is not the display"
pty_run "$KILN" build --no-cache --progress plain -t localhost/progress:2 "$ctx" > "$WORK/plain.bin"
grep -q $'\x1b' "$WORK/plain.bin" && fail "plain output has escape sequences"
grep -q '^\[5/6\] | out line 9' "$WORK/plain.bin" || fail "plain output lacks RUN's lines"
grep -q '^\[6/6\] RUN sleep 1.2  [0-9.]*s' "$WORK/plain.bin" || fail "plain output lacks the step line"
BUILDKIT_PROGRESS=plain pty_run "$KILN" build --no-cache -t localhost/progress:2 "$ctx" > "$WORK/env.bin"
grep -q $'\x1b' "$WORK/env.bin" && fail "BUILDKIT_PROGRESS=plain was not taken"
BUILDKIT_PROGRESS=rawjson kiln build -q -t localhost/progress:2 "$ctx" > /dev/null || fail "a docker-only BUILDKIT_PROGRESS broke the build"
# quiet: the image ID alone.
kiln build --progress quiet -t localhost/progress:3 "$ctx" > "$WORK/quiet.out" 2> "$WORK/quiet.err"
[ -s "$WORK/quiet.err" ] && fail "--progress quiet wrote to stderr: $(cat "$WORK/quiet.err")"
grep -qx 'sha256:[0-9a-f]\{64\}' "$WORK/quiet.out" || fail "--progress quiet printed $(cat "$WORK/quiet.out")"

# A failing step: the display ends with ERROR, then the one error line.
printf 'FROM localhost/progress:1\nRUN echo doomed; exit 3\n' > "$ctx/Buildfile.fail"
rc=0; pty_run "$KILN" build --progress tty -f "$ctx/Buildfile.fail" "$ctx" > "$WORK/fail.bin" || rc=$?
assert_eq "$rc" 1 "a failed build's exit code"
frames "$WORK/fail.bin" > "$WORK/fail.txt"
grep -q '^ => \[2/2\] RUN echo doomed; exit 3  ERROR$' "$WORK/fail.txt" || fail "the failed step: $(cat "$WORK/fail.txt")"
grep -q '^\[+\] Building [0-9.]*s (1/2) ERROR$' "$WORK/fail.txt" || fail "no ERROR total: $(cat "$WORK/fail.txt")"
grep -q '^kiln: .*Buildfile.fail:2: step 2/2 RUN .*exit status 3' "$WORK/fail.txt" || fail "no error line after the display"

# Ctrl-C: the display draws its last frame, the build says it was cancelled (130), nothing is left running.
printf 'FROM localhost/progress:1\nRUN sleep 1000\n' > "$ctx/Buildfile.hang"
rc=0; pty_run --interrupt-after 1.5 "$KILN" build --progress tty -f "$ctx/Buildfile.hang" "$ctx" > "$WORK/int.bin" || rc=$?
assert_eq "$rc" 130 "Ctrl-C during the display"
frames "$WORK/int.bin" > "$WORK/int.txt"
grep -q '^\[+\] Building [0-9.]*s (1/2) ERROR$' "$WORK/int.txt" || fail "no last frame after Ctrl-C: $(cat "$WORK/int.txt")"
grep -q '^kiln: build cancelled (SIGINT) in step 2/2 RUN' "$WORK/int.txt" || fail "no cancel line: $(cat "$WORK/int.txt")"
pgrep -f "sleep 1000" > /dev/null && fail "the RUN outlived the cancelled build"

expect_fail 'unknown --progress "fancy": use auto, plain, tty or quiet' kiln build --progress fancy "$ctx"
expect_fail "--progress tty: stderr is not a terminal (use plain)" kiln build --progress tty "$ctx"
true
