ln -s a.txt link
ln -s /etc/passwd abs
mkdir d && ln -s ../a.txt d/up
