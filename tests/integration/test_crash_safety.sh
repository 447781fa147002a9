#!/usr/bin/env bash
# kill -9 at random points of import, load, tag and gc: the store stays fsck-clean every time.
source "$(dirname "$0")/lib.sh"

make_busybox_rootfs "$WORK/rootfs"
head -c 24000000 /dev/urandom > "$WORK/rootfs/blob.bin"   # big enough that import takes a while
tar -C "$WORK/rootfs" -cf "$WORK/rootfs.tar" .
kiln import "$WORK/rootfs.tar" localhost/base:1 >/dev/null
kiln save localhost/base:1 -o "$WORK/base.tar"

rounds=${CRASH_ROUNDS:-30}
for i in $(seq 1 "$rounds"); do
  case $((i % 4)) in
    0) "$KILN" import "$WORK/rootfs.tar" "localhost/crash:$i" >/dev/null 2>&1 & ;;
    1) "$KILN" load -i "$WORK/base.tar" >/dev/null 2>&1 & ;;
    2) "$KILN" import --compression zstd "$WORK/rootfs.tar" "localhost/crash:$i" >/dev/null 2>&1 & ;;
    3) "$KILN" gc >/dev/null 2>&1 & ;;
  esac
  pid=$!
  sleep "0.$(printf '%03d' $((RANDOM % 400)))"
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  kiln fsck > "$WORK/fsck.out" 2>&1 || { cat "$WORK/fsck.out"; fail "round $i: fsck not clean after kill -9"; }
done
# Whatever survived is whole, and gc clears the leftovers of killed writers.
kiln gc >/dev/null
assert_eq "$(ls "$KILN_ROOT/kiln/tmp" | wc -l)" 0 "temp files left after gc"
kiln unpack localhost/base:1 "$WORK/check"
cmp "$WORK/rootfs/blob.bin" "$WORK/check/blob.bin" || fail "base image damaged"
assert_fsck_clean
