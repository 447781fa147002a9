echo data > target
ln -s target link
ln -s /nowhere dangling
