#!/bin/sh
# The examples against each other: each echo server (C and C++) with each client.
# usage: run_examples.sh SERVER_C SERVER_CXX CLIENT_C CLIENT_CXX
set -u
servers="$1 $2"
c_client=$3
cxx_client=$4
tmp=$(mktemp -d)
status=0
udp=$((30000 + $$ % 20000))
for server in $servers; do
  udp=$((udp + 1))
  port=$((5400 + udp % 500))
  # A log of its own per server: the background shell truncates a shared one only
  # when it gets to run, and until then the wait below would read the previous
  # server's "listening" and start the clients before this server is up.
  log="$tmp/server$udp.log"
  SCTPP_UDP_PORT=$udp "$server" $port > "$log" 2>&1 &
  pid=$!
  i=0
  until grep -q '^listening' "$log" 2>/dev/null; do
    i=$((i + 1))
    if [ $i -gt 100 ]; then echo "server $server did not start"; cat "$log"; kill $pid; exit 1; fi
    sleep 0.05
  done
  if ! SCTPP_UDP_PORT=0 SCTPP_REMOTE_UDP_PORT=$udp timeout 20 "$c_client" 127.0.0.1 $port; then
    echo "FAIL: $c_client against $server"; status=1
  fi
  if ! SCTPP_REMOTE_UDP_PORT=$udp timeout 20 "$cxx_client" 127.0.0.1:$port; then
    echo "FAIL: $cxx_client against $server"; status=1
  fi
  kill -INT $pid
  wait $pid || { echo "FAIL: $server exit status $?"; status=1; }
  echo "--- $server:"; cat "$log"
done
rm -rf "$tmp"
exit $status
