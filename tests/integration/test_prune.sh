#!/usr/bin/env bash
# system df, image prune, system prune and container inspect: what the store holds and what can go; nothing a
# running container uses is pruned; the store stays clean.
source "$(dirname "$0")/lib.sh"
export KILN_RUN_DIR=$WORK/run
on_exit '"$KILN" kill keep >/dev/null 2>&1'

make_busybox_rootfs "$WORK/rootfs"
tar -C "$WORK/rootfs" -cf "$WORK/rootfs.tar" .
kiln import "$WORK/rootfs.tar" localhost/base:1 >/dev/null
echo extra > "$WORK/rootfs/extra"
tar -C "$WORK/rootfs" -cf "$WORK/rootfs2.tar" .
old=$(kiln import "$WORK/rootfs2.tar")  # no name: a dangling image
mkdir -p "$WORK/ctx"
printf 'FROM localhost/base:1\nRUN echo two > /v\n' > "$WORK/ctx/Buildfile"
new=$(kiln build -q -t localhost/app:1 "$WORK/ctx")
assert_eq "$(kiln images -f dangling=true -q --no-trunc)" "$old" "the unnamed import is dangling"

# system df: docker's columns, a row per kind.
kiln system df > "$WORK/df.out"
assert_eq "$(head -1 "$WORK/df.out" | tr -s ' ')" "TYPE TOTAL ACTIVE SIZE RECLAIMABLE" "system df header"
assert_eq "$(kiln system df --format '{{.Type}}:{{.TotalCount}}:{{.Active}}' | tr '\n' ' ')" \
  "Images:3:0 Unpacked layers:3:0 Containers:0:0 Build Cache:1:0 " "system df counts"

# image prune: the dangling image goes, the tagged ones stay.
kiln image prune > "$WORK/prune.out"
grep -q "^deleted: " "$WORK/prune.out" || fail "image prune: $(cat "$WORK/prune.out")"
grep -q "^Total reclaimed space: " "$WORK/prune.out" || fail "image prune total: $(cat "$WORK/prune.out")"
assert_eq "$(kiln images -f dangling=true -q | wc -l)" 0 "dangling images after image prune"
assert_eq "$(kiln images --format '{{.Repository}}:{{.Tag}}' | sort | tr '\n' ' ')" "localhost/app:1 localhost/base:1 " "tagged images kept"

# container inspect of a running container; system prune -a keeps what it runs on, drops the rest.
kiln run -d --name keep localhost/app:1 sleep 60 >/dev/null
assert_eq "$(kiln container inspect -f '{{.Name}} {{.State.Running}} {{.Config.Image}} {{json .Config.Cmd}}' keep)" \
  '/keep true localhost/app:1 ["sleep","60"]' "container inspect -f"
assert_eq "$(kiln container inspect keep | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["Image"])')" "$new" "container inspect Image"
expect_fail "no such container" kiln container inspect nope
assert_eq "$(kiln system df --format '{{.Type}}={{.Active}}' | head -1)" "Images=1" "an image in use is active"
kiln system prune -a > "$WORK/sprune.out"
grep -q "untagged: localhost/base:1" "$WORK/sprune.out" || fail "system prune -a: $(cat "$WORK/sprune.out")"
assert_eq "$(kiln images --format '{{.Repository}}:{{.Tag}}')" "localhost/app:1" "the running container's image is kept"
assert_eq "$(kiln exec keep cat /v)" "two" "the container still reads its image"
kiln stop -t 1 keep >/dev/null
kiln system prune -a >/dev/null
assert_eq "$(kiln images -q | wc -l)" 0 "images after system prune -a"
assert_eq "$(kiln system df --format '{{.Size}}' | head -2 | tr '\n' ' ')" "0B 0B " "nothing left"
assert_fsck_clean
# docker's words for the group: an unknown one is one line.
expect_fail 'unknown command "system frob"' kiln system frob
