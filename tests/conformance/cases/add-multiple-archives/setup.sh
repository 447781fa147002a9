python3 - <<'PY'
import io, tarfile
def mk(name, mode):
    with tarfile.open(name, mode) as t:
        for n, kind, data, uid in [("top", tarfile.DIRTYPE, b"", 1000), ("top/f", tarfile.REGTYPE, b"data\n", 1000),
                                   ("top/g", tarfile.REGTYPE, b"g\n", 50), ("top/l", tarfile.SYMTYPE, b"", 0)]:
            ti = tarfile.TarInfo(n); ti.type = kind; ti.uid = uid; ti.gid = uid; ti.mtime = 0
            ti.mode = 0o755 if kind == tarfile.DIRTYPE else 0o640
            if kind == tarfile.SYMTYPE: ti.linkname = "f"
            ti.size = len(data)
            t.addfile(ti, io.BytesIO(data) if data else None)
mk("plain.tar", "w"); mk("z.tar.gz", "w:gz"); mk("j.tar.bz2", "w:bz2"); mk("x.tar.xz", "w:xz")
PY
