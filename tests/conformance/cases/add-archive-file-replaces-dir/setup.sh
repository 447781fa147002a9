python3 - <<'PY'
import io, tarfile
with tarfile.open("t.tar", "w") as t:
    i = tarfile.TarInfo("sub"); d = b"now a file"; i.size = len(d); t.addfile(i, io.BytesIO(d))
    i = tarfile.TarInfo("keep"); i.type = tarfile.DIRTYPE; i.mode = 0o700; t.addfile(i)
PY
