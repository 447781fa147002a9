long=$(printf 'n%.0s' $(seq 1 200))
mkdir -p "deep/$(printf 'd%.0s' $(seq 1 120))/$(printf 'e%.0s' $(seq 1 120))"
echo long > "deep/$long"
echo deeper > "deep/$(printf 'd%.0s' $(seq 1 120))/$(printf 'e%.0s' $(seq 1 120))/$long"
ln -s "/$(printf 't%.0s' $(seq 1 180))/target" deep/longlink
ln "deep/$long" "deep/hard-$(printf 'h%.0s' $(seq 1 150))"
