#!/usr/bin/env bash
# ADD: a local archive is extracted (safely), a URL is fetched from a loopback server and checked.
source "$(dirname "$0")/lib.sh"

make_busybox_rootfs "$WORK/base"
tar -C "$WORK/base" -cf "$WORK/base.tar" .
kiln import "$WORK/base.tar" localhost/base:1 >/dev/null

ctx=$WORK/ctx
mkdir -p "$ctx" "$WORK/payload/pkg" "$WORK/www"
echo "inside the archive" > "$WORK/payload/pkg/data.txt"
tar -C "$WORK/payload" -czf "$ctx/payload.tar.gz" pkg
echo "served over http" > "$WORK/www/file.txt"
sum=$(sha256sum "$WORK/www/file.txt" | cut -d' ' -f1)

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
python3 -m http.server "$port" --bind 127.0.0.1 --directory "$WORK/www" > "$WORK/http.log" 2>&1 &
http_pid=$!
on_exit "kill $http_pid"
for _ in $(seq 1 50); do python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$port/file.txt')" 2>/dev/null && break; sleep 0.1; done

cat > "$ctx/Buildfile" <<BF
FROM localhost/base:1
ADD payload.tar.gz /opt/
ADD --checksum=sha256:$sum http://127.0.0.1:$port/file.txt /srv/
BF
kiln build -q -t localhost/add:1 "$ctx" >/dev/null
out=$(kiln run localhost/add:1 /bin/sh -c 'cat /opt/pkg/data.txt /srv/file.txt')
assert_eq "$out" "$(printf 'inside the archive\nserved over http')" "ADD results"
[ ! -e "$(kiln unpack localhost/add:1 "$WORK/u" && echo "$WORK/u/opt/payload.tar.gz")" ] || fail "the archive itself was copied"

printf 'FROM localhost/base:1\nADD --checksum=sha256:%064d http://127.0.0.1:%s/file.txt /srv/\n' 0 "$port" > "$ctx/Buildfile"
expect_fail "checksum mismatch" kiln build -t localhost/add:2 "$ctx"
printf 'FROM localhost/base:1\nADD http://127.0.0.1:%s/missing.txt /srv/\n' "$port" > "$ctx/Buildfile"
expect_fail "download failed" kiln build -t localhost/add:2 "$ctx"
expect_fail "no such image" kiln inspect localhost/add:2
assert_fsck_clean
