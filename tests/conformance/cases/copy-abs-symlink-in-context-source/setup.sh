ln -s /a.txt abs
