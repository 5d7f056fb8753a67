#!/usr/bin/env bash
# Informal loopback throughput comparison, sctpp vs usrsctp (NOT part of the test suite; the
# real benchmarks live in bench/). Builds nothing: give it a configured and built build dir.
#
#   bench/informal/throughput.sh BUILD_DIR [RUNS]        (RUNS defaults to 3)
#
# Workload, the same for every pair: a client sends M messages of S bytes on stream 0
# (ordered, PPID 0) to an echo server over UDP encapsulation on 127.0.0.1 while a second
# thread receives and checks the echoes; elapsed = first send .. last echo received.
# MB/s = M*S / elapsed / 1e6 (payload bytes one way; the same bytes also come back).
#
#   sctpp    -> sctpp    build/tests/interop/sctpp_peer client  ->  build/tools/sctpp echo
#   usrsctp  -> usrsctp  build/tests/interop/usrsctp_peer client -> usrsctp_peer server
#   and the two mixed pairs (which side limits the rate).
#
# Workloads: M=20000 S=1024 and M=2000 S=16384 (override with WORKLOADS="M:S M:S ...").
# Both stacks use 4 MiB send/receive buffers, Nagle off; usrsctp's delayed SACK is 20 ms
# (usrsctp_peer sets it), sctpp's 200 ms default.
set -u
BUILD=${1:?usage: throughput.sh BUILD_DIR [RUNS]}
RUNS=${2:-3}
WORKLOADS=${WORKLOADS:-"20000:1024 2000:16384"}
SCTPP=$BUILD/tools/sctpp
SPEER=$BUILD/tests/interop/sctpp_peer
UPEER=$BUILD/tests/interop/usrsctp_peer
for b in "$SCTPP" "$SPEER" "$UPEER"; do
  [ -x "$b" ] || { echo "missing $b (build it first: ninja -C $BUILD sctpp sctpp_peer usrsctp_peer)" >&2; exit 2; }
done
TMP=$(mktemp -d /tmp/sctpp-throughput.XXXXXX)
SERVER_PID=
cleanup() { [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null; rm -rf "$TMP"; }
trap cleanup EXIT

free_ports() {  # two UDP ports free on IPv4 and IPv6 (usrsctp binds both)
  python3 - <<'EOF'
import socket
out = []
while len(out) < 2:
    s4 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s4.bind(("0.0.0.0", 0))
    p = s4.getsockname()[1]
    try:
        s6 = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        s6.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1); s6.bind(("::", p)); s6.close()
        out.append(p)
    except OSError:
        pass
    s4.close()
print(*out)
EOF
}

start_server() {  # $1 = sctpp|usrsctp, $2 = SCTP port, $3 = UDP port
  : >"$TMP/server.out"
  if [ "$1" = sctpp ]; then
    "$SCTPP" echo --listen "127.0.0.1:$2" --udp-port "$3" >"$TMP/server.out" 2>"$TMP/server.err" &
  else
    "$UPEER" server --port "$2" --udp-port "$3" --quiet --timeout 300 \
      >"$TMP/server.out" 2>"$TMP/server.err" &
  fi
  SERVER_PID=$!
  for _ in $(seq 100); do
    grep -q '^listening' "$TMP/server.out" 2>/dev/null && return 0
    sleep 0.05
  done
  echo "server $1 did not start: $(tail -1 "$TMP/server.err")" >&2
  return 1
}

stop_server() {
  kill -TERM "$SERVER_PID" 2>/dev/null
  wait "$SERVER_PID" 2>/dev/null
  SERVER_PID=
}

run_client() {  # $1 = sctpp|usrsctp, $2 = SCTP port, $3 = server UDP port, $4 = own UDP, $5 M, $6 S
  if [ "$1" = sctpp ]; then
    "$SPEER" client --connect "127.0.0.1:$2" --remote-udp-port "$3" --udp-port "$4" \
      --then shutdown --count "$5" --size "$6" --quiet --timeout 300
  else
    "$UPEER" client --connect "127.0.0.1:$2" --remote-udp-port "$3" --udp-port "$4" \
      --then shutdown --count "$5" --size "$6" --timeout 300
  fi
}

# One measurement: prints MB/s, or "fail".
measure() {  # $1 client impl, $2 server impl, $3 M, $4 S
  local ports u_srv u_cli port out
  read -r u_srv u_cli <<<"$(free_ports)"
  port=$((20000 + RANDOM % 30000))
  start_server "$2" "$port" "$u_srv" || { echo fail; return; }
  out=$(run_client "$1" "$port" "$u_srv" "$u_cli" "$3" "$4" 2>"$TMP/client.err")
  local rc=$?
  stop_server
  local mbps
  mbps=$(sed -n 's/^RESULT .*mbytes_per_s=\([0-9.]*\).*/\1/p' <<<"$out")
  if [ $rc -ne 0 ] || [ -z "$mbps" ]; then
    echo "client $1 -> $2 failed (rc=$rc): $(tail -1 "$TMP/client.err")" >&2
    echo fail
    return
  fi
  echo "$mbps"
}

median() { tr ' ' '\n' | grep -v fail | sort -g | awk '{a[NR]=$1} END{if(NR==0)print "-"; else print (NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2}'; }

echo "sctpp vs usrsctp, loopback, echo workload, $RUNS runs each (MB/s of payload one way)"
echo "host: $(nproc) CPUs, $(uname -r); $(date -u +%Y-%m-%dT%H:%MZ)"
printf '%-8s %-7s %-18s %-10s %s\n' "M" "S" "client -> server" "median" "runs"
for w in $WORKLOADS; do
  M=${w%%:*}
  S=${w##*:}
  for pair in sctpp:sctpp usrsctp:usrsctp sctpp:usrsctp usrsctp:sctpp; do
    c=${pair%%:*}
    s=${pair##*:}
    runs=""
    for _ in $(seq "$RUNS"); do runs="$runs $(measure "$c" "$s" "$M" "$S")"; done
    printf '%-8s %-7s %-18s %-10s %s\n' "$M" "$S" "$c -> $s" "$(echo $runs | median)" "$runs"
  done
done
