mkdir -p odd
echo 1 > "odd/with space"
echo 2 > "odd/ünïcödé.txt"
echo 3 > 'odd/back\slash'
echo 4 > "odd/$(printf 'new\nline')"
echo 5 > "odd/tab	here"
echo 6 > "odd/-dash"
echo 7 > "odd/:colon:"
