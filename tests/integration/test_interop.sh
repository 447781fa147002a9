#!/usr/bin/env bash
# Tools nobody here wrote read kiln's store and archives, and kiln reads theirs: skopeo and umoci.
source "$(dirname "$0")/lib.sh"
command -v skopeo >/dev/null && command -v umoci >/dev/null || fail "skopeo and umoci are needed (scripts/setup installs them)"

make_busybox_rootfs "$WORK/rootfs"
mkdir -p "$WORK/rootfs/usr/share"; echo data > "$WORK/rootfs/usr/share/data"
tar -C "$WORK/rootfs" -cf "$WORK/rootfs.tar" .
kiln import "$WORK/rootfs.tar" localhost/interop:1 >/dev/null
kiln inspect localhost/interop:1 > "$WORK/i.json"
digest=$(json_get "$WORK/i.json" 'j[0]["Digest"]')

# skopeo inspect reads the store as an OCI layout, by the full reference kiln tags with.
skopeo inspect "oci:$KILN_ROOT:localhost/interop:1" > "$WORK/sk.json"
assert_eq "$(json_get "$WORK/sk.json" 'j["Digest"]')" "$digest" "skopeo sees kiln's manifest digest"

# umoci unpack applies kiln's layers into the same tree.
umoci unpack --image "$KILN_ROOT:localhost/interop:1" "$WORK/bundle" >/dev/null
diff -r --no-dereference "$WORK/rootfs" "$WORK/bundle/rootfs" || fail "umoci's unpack of kiln's image differs"

# kiln load reads an oci-archive and a docker-archive that skopeo wrote.
skopeo copy -q "oci:$KILN_ROOT:localhost/interop:1" "oci-archive:$WORK/sk-oci.tar:v7"
skopeo copy -q "oci:$KILN_ROOT:localhost/interop:1" "docker-archive:$WORK/sk-docker.tar:localhost/fromdocker:3"
export KILN_ROOT=$WORK/store2
kiln load -i "$WORK/sk-oci.tar" | has_line "Loaded image: localhost/sk-oci:v7" || fail "oci-archive load"
kiln load -i "$WORK/sk-docker.tar" | has_line "Loaded image: localhost/fromdocker:3" || fail "docker-archive load"
kiln unpack localhost/fromdocker:3 "$WORK/fromdocker"
diff -r --no-dereference "$WORK/rootfs" "$WORK/fromdocker" || fail "docker-archive image differs"
kiln inspect localhost/sk-oci:v7 > "$WORK/i2.json"
assert_eq "$(json_get "$WORK/i2.json" 'j[0]["Digest"]')" "$digest" "oci-archive keeps the manifest bytes"
assert_fsck_clean

# skopeo reads what kiln save writes, in both formats.
kiln save localhost/fromdocker:3 --format docker-archive -o "$WORK/k-docker.tar"
skopeo inspect "docker-archive:$WORK/k-docker.tar" > "$WORK/kd.json"
assert_eq "$(json_get "$WORK/kd.json" 'len(j["Layers"])')" 1 "docker-archive layers"
kiln save localhost/sk-oci:v7 -o "$WORK/k-oci.tar"
skopeo inspect "oci-archive:$WORK/k-oci.tar" > "$WORK/ko.json"
assert_eq "$(json_get "$WORK/ko.json" 'j["Digest"]')" "$digest" "oci-archive digest"
# and a full round trip through skopeo back into an OCI layout that umoci unpacks
skopeo copy -q "docker-archive:$WORK/k-docker.tar" "oci:$WORK/layout:x"
umoci unpack --image "$WORK/layout:x" "$WORK/bundle2" >/dev/null
diff -r --no-dereference "$WORK/rootfs" "$WORK/bundle2/rootfs" || fail "round trip through docker-archive differs"
