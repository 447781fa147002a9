#!/usr/bin/env bash
# Hostile layers: import stores them as given; unpack refuses each, names the entry, and changes nothing outside.
source "$(dirname "$0")/lib.sh"

outside=$WORK/outside
mkdir -p "$outside/dir"
echo secret > "$outside/secret"

python3 - "$WORK" "$outside" <<'PY'
import io, sys, tarfile
work, outside = sys.argv[1], sys.argv[2]
def mk(name, entries):
    with tarfile.open(f"{work}/{name}.tar", "w", format=tarfile.PAX_FORMAT) as t:
        for kind, path, arg in entries:
            ti = tarfile.TarInfo(path)
            if kind == "file":
                data = arg.encode(); ti.size = len(data); t.addfile(ti, io.BytesIO(data))
            elif kind == "dir":
                ti.type = tarfile.DIRTYPE; ti.mode = 0o755; t.addfile(ti)
            elif kind == "sym":
                ti.type = tarfile.SYMTYPE; ti.linkname = arg; t.addfile(ti)
            elif kind == "hard":
                ti.type = tarfile.LNKTYPE; ti.linkname = arg; t.addfile(ti)
up = "../" * 12
mk("traversal", [("dir", "etc", None), ("file", "../../../../../../.." + outside + "/dir/pwned", "x")])
mk("symlink-parent", [("sym", "evil", up + outside[1:] + "/dir"), ("file", "evil/pwned", "x")])
mk("hardlink-escape", [("hard", "stolen", up + outside[1:] + "/secret")])
mk("absolute-symlink", [("sym", "evil", outside + "/dir"), ("file", "evil/pwned", "x")])
PY

for case in traversal:pwned symlink-parent:evil/pwned hardlink-escape:stolen absolute-symlink:evil/pwned; do
  name=${case%%:*} entry=${case#*:}
  kiln import "$WORK/$name.tar" "localhost/evil:$name" >/dev/null || fail "import of $name should store it"
  expect_fail "$entry" kiln unpack "localhost/evil:$name" "$WORK/out-$name"
  [ ! -e "$WORK/out-$name" ] || fail "$name: unpack left its half-made target behind"
  [ ! -e "$outside/dir/pwned" ] || fail "$name: wrote outside the target"
  assert_eq "$(cat "$outside/secret")" "secret" "$name: secret untouched"
  assert_eq "$(stat -c %h "$outside/secret")" 1 "$name: no hardlink to the secret"
  assert_eq "$(ls "$outside/dir" | wc -l)" 0 "$name: outside dir untouched"
done
expect_fail "refusing entry" kiln unpack localhost/evil:traversal "$WORK/out-again"
assert_fsck_clean
