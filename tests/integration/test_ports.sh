#!/usr/bin/env bash
# Published ports without a daemon: -p and -P give the container its own network namespace connected by pasta,
# which listens on the host port and forwards it; two containers of one image publish two host ports; pasta ends
# with its container (stop, exit, kill -9 of the supervising kiln); the host's loopback stays out of reach; bad
# -p specs are one line. All traffic is to 127.0.0.1.
source "$(dirname "$0")/lib.sh"
export KILN_RUN_DIR=$WORK/run

# pasta processes (not zombies) started for one container ID
pastas_of() { ps -ww -eo pid=,stat=,args= | awk -v id="$1" '$2 !~ /^Z/ && $3 == "pasta" && index($0, id) { print $1 }'; }
get() { curl -s --max-time 5 "http://127.0.0.1:$1/"; }
on_exit 'for n in web1 web2 webP webK; do "$KILN" kill $n >/dev/null 2>&1; done'

ctx=$WORK/ctx
mkdir -p "$ctx"
cp /bin/busybox "$ctx/busybox"
cat > "$ctx/Buildfile" <<'BF'
FROM scratch
COPY busybox /bin/busybox
RUN ["/bin/busybox", "--install", "-s", "/bin"]
RUN mkdir -p /www && echo hello-from-kiln > /www/index.html
EXPOSE 80
CMD ["httpd", "-f", "-p", "80", "-h", "/www"]
BF
kiln build -q -t localhost/web:1 "$ctx" >/dev/null

# Two containers of one image on two host ports; curl reaches both; ps shows the mappings.
p1=$(free_port) p2=$(free_port)
id1=$(kiln run -d --name web1 -p "127.0.0.1:$p1:80" localhost/web:1)
id2=$(kiln run -d --name web2 -p "127.0.0.1:$p2:80/tcp" localhost/web:1)
for _ in $(seq 50); do [ "$(get "$p1")" = hello-from-kiln ] && [ "$(get "$p2")" = hello-from-kiln ] && break; sleep 0.1; done
assert_eq "$(get "$p1")" hello-from-kiln "the first container through its published port"
assert_eq "$(get "$p2")" hello-from-kiln "the second container through its published port"
kiln ps | has_line "127.0.0.1:$p1->80/tcp *web1" || fail "ps PORTS of web1: $(kiln ps)"
kiln ps | has_line "127.0.0.1:$p2->80/tcp *web2" || fail "ps PORTS of web2: $(kiln ps)"
[ -n "$(pastas_of "$id1")" ] || fail "no pasta for web1"
assert_eq "$(kiln ps --format '{{.Names}} {{.Ports}} {{.State}}' | sort | tr '\n' ' ')" \
  "web1 127.0.0.1:$p1->80/tcp running web2 127.0.0.1:$p2->80/tcp running " "ps --format"
assert_eq "$(kiln ps | head -1 | tr -s ' ')" "CONTAINER ID IMAGE COMMAND CREATED STATUS PORTS NAMES" "ps columns"
assert_eq "$(kiln ps --no-trunc --format '{{.ID}}' | grep -c "^$id1$")" 1 "ps --no-trunc"

# stop ends pasta with the container, and the port is free again.
kiln stop -t 1 web1 >/dev/null
[ -z "$(pastas_of "$id1")" ] || fail "pasta outlived kiln stop"
get "$p1" >/dev/null && fail "port $p1 still answers after stop"

# kill -9 of the supervising kiln: the container and its pasta go (PR_SET_PDEATHSIG), the next kiln sweeps.
sup=$(pgrep -f -- "--name web2" | head -1)
kill -9 "$sup"
for _ in $(seq 50); do [ -z "$(pastas_of "$id2")" ] && break; sleep 0.1; done
[ -z "$(pastas_of "$id2")" ] || fail "pasta outlived a kill -9 of its kiln"
kiln ps -q >/dev/null
get "$p2" >/dev/null && fail "port $p2 still answers after the kill"

# -P: each EXPOSEd port on a free host port, shown by ps.
kiln run -d --name webP -P localhost/web:1 >/dev/null
pP=$(kiln ps | grep webP | grep -o ':[0-9]*->80/tcp' | tr -dc '0-9\n' | sed 's/80$//')
[ -n "$pP" ] || fail "-P shows no port: $(kiln ps)"
for _ in $(seq 50); do [ "$(get "$pP")" = hello-from-kiln ] && break; sleep 0.1; done
assert_eq "$(get "$pP")" hello-from-kiln "-P's port"
kiln stop -t 1 webP >/dev/null

# Inside: an interface with an address and a default route (pasta's copy of the host's); the host's loopback
# services are not reachable through the gateway (--no-map-gw); the container exits and its pasta with it.
hp=$(free_port)
python3 -m http.server "$hp" --bind 127.0.0.1 >/dev/null 2>&1 &
hs=$!
on_exit "kill $hs"
for _ in $(seq 50); do curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$hp/" && break; sleep 0.1; done
out=$(kiln run --rm -p "127.0.0.1:$(free_port):80" localhost/web:1 sh -c \
  'ip route | grep -q "^default" && echo route; gw=$(ip route | awk "/^default/ {print \$3}");
   wget -q -T 3 -O /dev/null "http://$gw:'"$hp"'/" 2>/dev/null && echo host-loopback-reached || echo host-loopback-refused')
assert_eq "$out" "$(printf 'route\nhost-loopback-refused')" "the namespace pasta connects"
# --network pasta without -p: the same network, nothing published.
assert_eq "$(kiln run --rm --network pasta localhost/web:1 sh -c 'ip route | grep -c "^default"')" 1 "--network pasta"

# Bad input: one line each, nothing left.
expect_fail 'invalid -p "99999:80"' kiln run --rm -p 99999:80 localhost/web:1 true
expect_fail 'invalid -p "abc"' kiln run --rm -p abc localhost/web:1 true
expect_fail 'protocol "sctp"' kiln run --rm -p 80/sctp localhost/web:1 true
expect_fail 'differ in length' kiln run --rm -p 8000-8001:80 localhost/web:1 true
expect_fail 'is not an IP address' kiln run --rm -p 1.2.3:80:80 localhost/web:1 true
expect_fail "--network host" kiln run --rm --network host -p 80 localhost/web:1 true
# A host port already taken: pasta's refusal, in one line; no container, no pasta left.
taken=$(free_port)
python3 -c 'import socket,sys,time; s=socket.socket(); s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(); time.sleep(30)' "$taken" &
holder=$!
on_exit "kill $holder"
for _ in $(seq 100); do ss -Hltn "sport = :$taken" | has_line . && break; sleep 0.05; done
expect_fail "host port 127.0.0.1:$taken/tcp is already in use" kiln run --rm -p "127.0.0.1:$taken:80" localhost/web:1 true
# Without pasta: what to install, in one line.
expect_fail "publishing ports needs pasta" env PATH=/nonexistent "$KILN" run --rm -p "127.0.0.1:$(free_port):80" localhost/web:1 true
assert_eq "$(kiln ps -q | wc -l)" 0 "containers left"
assert_eq "$(pastas_of "$WORK/" | wc -l)" 0 "pasta processes left"

# Rootless: pasta runs in the user's namespace; it needs /dev/net/tun open to users (Debian's udev: 0666). Where
# the host keeps it 0600 that is said in one line; then, with 0666 for the test, -p works for the user.
if userns_allowed root 2>/dev/null; then
  rootless_user kiln-t-ports
  mkdir -p "$WORK/rctx" && cp "$ctx/busybox" "$ctx/Buildfile" "$WORK/rctx/" && chmod -R 755 "$WORK/rctx"
  user_kiln kiln-t-ports build -q -t localhost/web:1 "$WORK/rctx" >/dev/null
  mode=$(stat -c %a /dev/net/tun)
  on_exit "chmod $mode /dev/net/tun"
  chmod 0600 /dev/net/tun
  expect_fail "rootless -p needs it open to users" user_kiln kiln-t-ports run --rm -p "127.0.0.1:$(free_port):80" localhost/web:1 true
  chmod 0666 /dev/net/tun
  pr=$(free_port)
  user_kiln kiln-t-ports run -d --name rweb -p "127.0.0.1:$pr:80" localhost/web:1 >/dev/null
  for _ in $(seq 50); do [ "$(get "$pr")" = hello-from-kiln ] && break; sleep 0.1; done
  assert_eq "$(get "$pr")" hello-from-kiln "a rootless container through its published port"
  user_kiln kiln-t-ports stop -t 1 rweb >/dev/null
  chmod "$mode" /dev/net/tun
fi
