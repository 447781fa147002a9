mkdir dir1 dir2 dir3 dir4
echo -n 2 > dir1/file-101.png; echo -n 3 > dir1/file-102.txt; echo -n 4 > dir1/file-103.jpeg
echo -n 6 > dir2/file-201.pdf; echo -n 7 > dir2/file-202.jpeg; echo -n 8 > dir2/file-203.png
echo -n 9 > dir3/file-301.mp3; echo -n 10 > dir3/file-302.mpeg; echo -n 11 > dir4/file-401.txt
ln -s file-401.txt dir4/file-402.txt; ln -s file-404.txt dir4/file-403.txt
find dir1 dir2 dir3 dir4 -type f -exec chmod 0600 {} +
