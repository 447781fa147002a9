#!/usr/bin/env python3
"""make_base.py OUT.tar: the conformance cases' base image, a busybox root made the same way every time
(sorted, mtime 0, fixed owners): busybox-static with its applets, /etc/passwd and /etc/group with users of
several ids, /tmp 1777. Both BuildKit and kiln import this same file as conf-base:1."""
import io, sys, tarfile

APPLETS = ["sh", "ls", "cat", "echo", "mkdir", "touch", "rm", "ln", "chmod", "chown", "id", "true", "false", "env",
           "printf", "mkfifo", "mknod", "cp", "mv", "stat", "find", "sort", "head", "tar", "gzip", "sleep", "test",
           "adduser", "addgroup", "setfattr", "wc", "dd", "sed", "grep", "xargs", "rmdir", "readlink", "basename"]
PASSWD = ("root:x:0:0:root:/root:/bin/sh\ndaemon:x:1:1:daemon:/usr/sbin:/bin/false\n"
          "app:x:1000:1000:app:/home/app:/bin/sh\nbuilder:x:1001:50:builder:/home/builder:/bin/sh\n"
          "nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n")
GROUP = "root:x:0:\ndaemon:x:1:\nwheel:x:10:app\nstaff:x:50:\napp:x:1000:\nnogroup:x:65534:\n"


def main(out):
    entries = []
    def add(name, kind, mode, data=b"", link="", uid=0, gid=0):
        ti = tarfile.TarInfo(name)
        ti.type, ti.mode, ti.uid, ti.gid, ti.mtime = kind, mode, uid, gid, 0
        ti.uname = ti.gname = ""
        if kind == tarfile.SYMTYPE:
            ti.linkname = link
        ti.size = len(data) if kind == tarfile.REGTYPE else 0
        entries.append((ti, data))
    for d in ["bin", "etc", "home", "root", "usr", "usr/bin", "var"]:
        add(d, tarfile.DIRTYPE, 0o755)
    add("tmp", tarfile.DIRTYPE, 0o1777)
    add("home/app", tarfile.DIRTYPE, 0o750, uid=1000, gid=1000)
    add("bin/busybox", tarfile.REGTYPE, 0o755, open("/bin/busybox", "rb").read())
    for a in APPLETS:
        add("bin/" + a, tarfile.SYMTYPE, 0o777, link="busybox")
    add("etc/passwd", tarfile.REGTYPE, 0o644, PASSWD.encode())
    add("etc/group", tarfile.REGTYPE, 0o644, GROUP.encode())
    with tarfile.open(out, "w", format=tarfile.GNU_FORMAT) as t:
        for ti, data in sorted(entries, key=lambda e: e[0].name):
            t.addfile(ti, io.BytesIO(data) if data else None)


main(sys.argv[1])
