ln -s ../nowhere tree/dangling
ln -s /etc/passwd tree/abs
ln -s . tree/self
rmdir tree/empty 2>/dev/null; mkdir tree/empty
