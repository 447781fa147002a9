python3 - <<'PY'
import io, tarfile
with tarfile.open("x.tar", "w", format=tarfile.PAX_FORMAT) as t:
    for name, kind, px in [("d", tarfile.DIRTYPE, {"SCHILY.xattr.user.dir": "dv"}),
                           ("d/f", tarfile.REGTYPE, {"SCHILY.xattr.user.k": "val", "SCHILY.xattr.security.capability": "\x01\x00\x00\x02\x00\x04\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"})]:
        i = tarfile.TarInfo(name); i.type = kind; i.mode = 0o755 if kind == tarfile.DIRTYPE else 0o644
        i.pax_headers = px
        data = b"" if kind == tarfile.DIRTYPE else b"hi\n"
        i.size = len(data)
        t.addfile(i, io.BytesIO(data))
PY
