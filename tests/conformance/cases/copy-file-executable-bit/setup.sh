chmod 755 a.txt
