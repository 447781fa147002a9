ln a.txt hard.txt
