python3 -c '
import os
os.setxattr("x.txt", "user.kiln", b"one")
os.setxattr("d", "user.dir", b"two")
os.setxattr("d/y", "security.capability", bytes.fromhex("0100000200040000000000000000000000000000"))
'
