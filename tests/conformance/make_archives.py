#!/usr/bin/env python3
"""make_archives.py: the tar archives the ADD cases extract, written into the current directory: the same
small tree (a directory, files of two owners, a symlink) as plain.tar, z.tar.gz, j.tar.bz2 and x.tar.xz."""
import io, tarfile


def make(name, mode):
    with tarfile.open(name, mode) as t:
        for n, kind, data, uid in [("top", tarfile.DIRTYPE, b"", 1000), ("top/f", tarfile.REGTYPE, b"data\n", 1000),
                                   ("top/g", tarfile.REGTYPE, b"g\n", 50), ("top/l", tarfile.SYMTYPE, b"", 0)]:
            ti = tarfile.TarInfo(n)
            ti.type, ti.uid, ti.gid, ti.mtime = kind, uid, uid, 0
            ti.mode = 0o755 if kind == tarfile.DIRTYPE else 0o640
            if kind == tarfile.SYMTYPE:
                ti.linkname = "f"
            ti.size = len(data)
            t.addfile(ti, io.BytesIO(data) if data else None)


for name, mode in [("plain.tar", "w"), ("z.tar.gz", "w:gz"), ("j.tar.bz2", "w:bz2"), ("x.tar.xz", "w:xz")]:
    make(name, mode)
