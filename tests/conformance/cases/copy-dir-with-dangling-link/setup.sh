mkdir -p tree/empty
ln -s ../nowhere tree/dangling
ln -s /etc/passwd tree/abs
ln -s . tree/self
