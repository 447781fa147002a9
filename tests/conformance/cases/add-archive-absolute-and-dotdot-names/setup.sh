python3 - <<'PY'
import io, tarfile
with tarfile.open("evil.tar", "w") as t:
    for name in ["/abs.txt", "sub/../up.txt", "./dot.txt", "a//b.txt"]:
        i = tarfile.TarInfo(name); data = name.encode(); i.size = len(data); t.addfile(i, io.BytesIO(data))
PY
