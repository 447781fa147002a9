#!/usr/bin/env bash
# import / images / inspect / tag / rmi / gc / fsck / unpack / export through the real binary.
source "$(dirname "$0")/lib.sh"

make_busybox_rootfs "$WORK/rootfs"
echo "hello" > "$WORK/rootfs/etc/motd"
chown 12:34 "$WORK/rootfs/etc/motd"; chmod 4750 "$WORK/rootfs/etc/motd"
tar -C "$WORK/rootfs" -cf "$WORK/rootfs.tar" .

id=$(kiln import "$WORK/rootfs.tar" localhost/bb:1)
[[ $id == sha256:* ]] || fail "import printed '$id', want an image ID"
kiln images --format json > "$WORK/images.json"
assert_eq "$(json_get "$WORK/images.json" 'len(j)')" 1 "image count"
assert_eq "$(json_get "$WORK/images.json" 'j[0]["Repository"]+":"+j[0]["Tag"]')" "localhost/bb:1"
assert_eq "$(json_get "$WORK/images.json" 'j[0]["Id"]')" "$id" "image ID"
kiln images | has_line "localhost/bb .* 1 .* ${id:7:12}" || fail "table listing lacks the image"

# Compressed and stdin inputs give the same layer (diffID) as the plain tarball.
gzip -c "$WORK/rootfs.tar" > "$WORK/rootfs.tar.gz"
zstd -q -c "$WORK/rootfs.tar" > "$WORK/rootfs.tar.zst"
kiln import "$WORK/rootfs.tar.gz" localhost/bb:gz >/dev/null
kiln import --compression zstd "$WORK/rootfs.tar.zst" localhost/bb:zst >/dev/null
kiln import - localhost/bb:stdin < "$WORK/rootfs.tar" >/dev/null
for t in 1 gz zst stdin; do
  kiln inspect localhost/bb:$t > "$WORK/i.json"
  echo "$(json_get "$WORK/i.json" 'j[0]["Layers"][0]["DiffID"]')"
done | sort -u | wc -l | has_line -x 1 || fail "diffIDs differ across input compressions"
kiln inspect localhost/bb:zst > "$WORK/i.json"
assert_eq "$(json_get "$WORK/i.json" 'j[0]["Layers"][0]["MediaType"]')" "application/vnd.oci.image.layer.v1.tar+zstd"

# Reproducible: the same tarball with SOURCE_DATE_EPOCH gives the same image ID twice.
a=$(SOURCE_DATE_EPOCH=1700000000 kiln import "$WORK/rootfs.tar")
b=$(SOURCE_DATE_EPOCH=1700000000 kiln import "$WORK/rootfs.tar")
assert_eq "$a" "$b" "reproducible import"

# history (in a store of its own: the build cache would keep blobs the rmi + gc checks below expect gone):
# newest first, docker's columns; the image named on its newest row only; a step without a layer, or with an
# empty one (WORKDIR of a directory the image has keeps its layer, as BuildKit's does), 0B; BuildKit's words.
(
export KILN_RUN_DIR=$WORK/run KILN_ROOT=$WORK/hstore
kiln import "$WORK/rootfs.tar" localhost/bb:1 >/dev/null
mkdir -p "$WORK/hctx"
printf 'FROM localhost/bb:1\nENV A=1\nWORKDIR /bin\nRUN echo a-long-command-line-that-runs-on-beyond-forty-five-characters > /f\n' \
  > "$WORK/hctx/Buildfile"
hid=$(kiln build -q -t localhost/hist:1 "$WORK/hctx")
kiln history localhost/hist:1 > "$WORK/h.out"
assert_eq "$(head -1 "$WORK/h.out" | tr -s ' ')" "IMAGE CREATED CREATED BY SIZE COMMENT" "history header"
assert_eq "$(sed 1d "$WORK/h.out" | wc -l)" 4 "history rows"
sed -n 2p "$WORK/h.out" | has_line "^${hid:7:12} .* RUN /bin/sh -c echo a-long-command-line-that…  *[0-9.]*[kKMG]*B  *buildkit.dockerfile.v0" \
  || fail "history's newest row: $(sed -n 2p "$WORK/h.out")"
sed -n 3p "$WORK/h.out" | has_line "^<missing> .* WORKDIR /bin  *0B" || fail "history's empty WORKDIR row: $(sed -n 3p "$WORK/h.out")"
sed -n 4p "$WORK/h.out" | has_line "^<missing> .* ENV A=1 .* 0B" || fail "history's ENV row: $(sed -n 4p "$WORK/h.out")"
kiln history --no-trunc localhost/hist:1 | has_line "^$hid .*beyond-forty-five-characters > /f" || fail "history --no-trunc"
assert_eq "$(kiln history -q localhost/hist:1 | tr '\n' ' ')" "${hid:7:12} <missing> <missing> <missing> " "history -q"
kiln history --format json localhost/hist:1 > "$WORK/h.json"
kiln inspect localhost/hist:1 > "$WORK/hi.json"
assert_eq "$(json_get "$WORK/h.json" 'j[0]["Size"]')" "$(json_get "$WORK/hi.json" 'j[0]["Layers"][-1]["Size"]')" "history size of the RUN layer"
assert_eq "$(json_get "$WORK/h.json" '[r["EmptyLayer"] for r in j]')" "[False, False, True, False]" "history empty layers"
expect_fail "no such image" kiln history localhost/absent:1
assert_eq "$(kiln inspect -f '{{index .Config.Env 1}} {{len .RootFS.Layers}}' localhost/hist:1)" "A=1 3" "inspect -f of a built image"

)

# docker's management commands: image ls|inspect|tag|rm|history, container ls.
assert_eq "$(kiln image ls)" "$(kiln images)" "image ls"
assert_eq "$(kiln --root "$KILN_ROOT" image inspect localhost/bb:1)" "$(kiln inspect localhost/bb:1)" "image inspect"
kiln image tag localhost/bb:1 localhost/alias:1
kiln image rm localhost/alias:1 | has_line "Untagged: localhost/alias:1" || fail "image rm"
assert_eq "$(kiln image history -q localhost/bb:1)" "$(kiln history -q localhost/bb:1)" "image history"
assert_eq "$(KILN_RUN_DIR=$WORK/run kiln container ls -q | wc -l)" 0 "container ls"
rc=0; kiln image frob 2> "$WORK/alias.err" || rc=$?
assert_eq $rc 2 "an unknown image command"
grep -q 'unknown command "image frob" for kiln (kiln image takes ls, ' "$WORK/alias.err" || fail "alias error: $(cat "$WORK/alias.err")"

# --format as docker's Go templates, with table headers; images filters; inspect -f; the familiar names docker
# shows (web, not docker.io/library/web).
kiln tag localhost/bb:1 web
kiln images --format '{{.Repository}}:{{.Tag}}' > "$WORK/fmt.out"
grep -qx "web:latest" "$WORK/fmt.out" && grep -qx "localhost/bb:1" "$WORK/fmt.out" || fail "images --format: $(cat "$WORK/fmt.out")"
assert_eq "$(kiln images --format '{{.ID}}' web)" "${id:7:12}" "images REPOSITORY"
assert_eq "$(kiln images --format 'table {{.Repository}}\t{{.Tag}}' web)" "$(printf 'REPOSITORY   TAG\nweb          latest')" "a table format"
assert_eq "$(kiln images --format '{{.Tag}}' localhost/bb:zs*)" "zst" "images REPOSITORY:TAG with a glob"
assert_eq "$(kiln images -f 'reference=web' --format '{{.Repository}}')" "web" "--filter reference"
assert_eq "$(kiln images -f dangling=true --format '{{.Repository}}' | grep -vc '^<none>$')" 0 "--filter dangling=true"
assert_eq "$(kiln images -f dangling=false --format '{{.Repository}}' | grep -c '^<none>$')" 0 "--filter dangling=false"
assert_eq "$(kiln images --digests | head -1 | tr -s ' ')" "REPOSITORY TAG DIGEST IMAGE ID CREATED SIZE" "--digests"
assert_eq "$(kiln images --no-trunc -q web)" "$id" "--no-trunc"
# (bb:gz, bb:zst and bb:stdin share bb:1's ID when their imports fell in the same second: only these two are sure)
assert_eq "$(kiln inspect -f '{{.Os}}/{{.Architecture}} {{json .RepoTags}}' web | python3 -c 'import json,sys
os_arch, tags = sys.stdin.read().split(" ", 1); t = json.loads(tags)
print(os_arch, "localhost/bb:1" in t and "web:latest" in t and t == sorted(t))')" "linux/amd64 True" "inspect -f"
assert_eq "$(kiln inspect --format '{{.Config.Cmd}}' web)" "<no value>" "inspect .Config.Cmd of an image without one"
assert_eq "$(kiln history --format '{{.ID}}' web)" "${id:7:12}" "history --format"
expect_fail "can't evaluate field Nope" kiln images --format '{{.Nope}}'
expect_fail 'unclosed action' kiln inspect -f '{{.Id' web
expect_fail "invalid --filter" kiln images -f before=x
kiln rmi web >/dev/null

# inspect by short ID, tag, rmi
kiln inspect "${id:7:12}" > "$WORK/i.json"
assert_eq "$(json_get "$WORK/i.json" 'j[0]["Id"]')" "$id"
kiln tag localhost/bb:1 example.com/team/bb:v2
kiln inspect example.com/team/bb:v2 > "$WORK/i.json"
assert_eq "$(json_get "$WORK/i.json" 'sorted(j[0]["RepoTags"])[0]')" "example.com/team/bb:v2"
kiln rmi example.com/team/bb:v2 | has_line "Untagged: example.com/team/bb:v2"
expect_fail "no such image" kiln inspect example.com/team/bb:v2
kiln inspect localhost/bb:1 >/dev/null

# unpack: the same tree as the input, modes and owners included
kiln unpack localhost/bb:1 "$WORK/unpacked"
diff -r --no-dereference "$WORK/rootfs" "$WORK/unpacked" || fail "unpacked tree differs"
assert_eq "$(stat -c '%a %u %g' "$WORK/unpacked/etc/motd")" "4750 12 34" "mode/owner kept"
expect_fail "already exists" kiln unpack localhost/bb:1 "$WORK/unpacked"

# export: one tarball of the flattened tree
kiln export localhost/bb:1 -o "$WORK/export.tar"
tar -tf "$WORK/export.tar" > "$WORK/export.list"
grep -qx "etc/motd" "$WORK/export.list" || fail "export lacks etc/motd"
grep -qx "bin/busybox" "$WORK/export.list" || fail "export lacks bin/busybox"

# rmi everything, gc reclaims all blobs and unpacked trees
for t in 1 gz zst stdin; do kiln rmi localhost/bb:$t >/dev/null; done
kiln rmi -f "${a:7:12}" >/dev/null
kiln gc | has_line "^Removed" || fail "gc printed no summary"
assert_eq "$(find "$KILN_ROOT/blobs/sha256" -type f | wc -l)" 0 "blobs left after rmi + gc"
assert_eq "$(kiln images -q | wc -l)" 0 "images left"
assert_fsck_clean
