python3 - <<'PY'
import io, tarfile
with tarfile.open("l.tar", "w") as t:
    for n, kind, extra in [("d", tarfile.DIRTYPE, ""), ("link", tarfile.SYMTYPE, "d"), ("link/inside", tarfile.REGTYPE, "x")]:
        ti = tarfile.TarInfo(n); ti.type = kind; ti.mtime = 0; ti.mode = 0o755
        if kind == tarfile.SYMTYPE: ti.linkname = extra
        data = extra.encode() if kind == tarfile.REGTYPE else b""
        ti.size = len(data); t.addfile(ti, io.BytesIO(data) if data else None)
PY
