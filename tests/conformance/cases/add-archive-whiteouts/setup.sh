python3 - <<'PY'
import io, tarfile
with tarfile.open("wh.tar", "w") as t:
    for n in [".wh.group", "newfile"]:
        ti = tarfile.TarInfo(n); ti.mtime = 0; ti.size = 1; t.addfile(ti, io.BytesIO(b"x"))
PY
