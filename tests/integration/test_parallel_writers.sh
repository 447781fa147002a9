#!/usr/bin/env bash
# Many kiln processes importing and tagging into one store at once, with gc running too: no update is lost.
source "$(dirname "$0")/lib.sh"

make_busybox_rootfs "$WORK/rootfs"
procs=8 tags=5
for p in $(seq 1 $procs); do
  mkdir -p "$WORK/r$p"; cp -a "$WORK/rootfs/." "$WORK/r$p/"; echo "$p" > "$WORK/r$p/which"
  tar -C "$WORK/r$p" -cf "$WORK/r$p.tar" .
done
pids=()
for p in $(seq 1 $procs); do
  (
    "$KILN" import "$WORK/r$p.tar" "localhost/par$p:0" >/dev/null
    for t in $(seq 1 $tags); do "$KILN" tag "localhost/par$p:0" "localhost/par$p:$t"; done
  ) &
  pids+=($!)
done
( for _ in 1 2 3 4 5; do "$KILN" gc >/dev/null; done ) &
gcpid=$!
for pid in "${pids[@]}"; do wait "$pid" || fail "a writer failed"; done
wait $gcpid || fail "gc failed"
assert_eq "$(kiln images --format json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" $((procs * (tags + 1))) "tags in the store"
for p in $(seq 1 $procs); do
  kiln unpack "localhost/par$p:$tags" "$WORK/u$p"
  assert_eq "$(cat "$WORK/u$p/which")" "$p" "image $p content"
done
kiln gc >/dev/null
assert_fsck_clean
