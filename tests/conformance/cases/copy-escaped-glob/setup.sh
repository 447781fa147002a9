printf literal > 'n?pe'
printf other > nope
