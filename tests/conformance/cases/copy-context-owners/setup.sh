chown -R 1234:4321 owned f.txt
chmod 0750 owned/sub
chmod 0604 owned/sub/x
