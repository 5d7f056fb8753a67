#!/usr/bin/env bash
# The README demo: builds sctpp, starts `sctpp echo`, and runs a client against it
# that narrates an association's life (setup, streams, echoes, big message, shutdown).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
echo "Building sctpp (first build takes a few minutes)..."
./scripts/build.sh
build=${BUILD_DIR:-build}
port=${DEMO_PORT:-5000}
udp=${DEMO_UDP_PORT:-9899}
fifo=$(mktemp -u)
mkfifo "$fifo"
"$build/tools/sctpp" echo --listen "127.0.0.1:$port" --udp-port "$udp" >"$fifo" 2>/dev/null &
echo_pid=$!
trap 'kill $echo_pid 2>/dev/null || true; rm -f "$fifo"' EXIT
read -r line <"$fifo"
echo
echo "Server: sctpp echo says: $line"
echo
"$build/demo/demo_client" "127.0.0.1:$port" "$udp"
kill -TERM $echo_pid
wait $echo_pid 2>/dev/null || true
echo
echo "Server: sctpp echo stopped (SIGTERM shuts every association down gracefully)."
