chmod 4755 a.txt
mkdir sticky && chmod 1777 sticky
chmod 600 b.txt
