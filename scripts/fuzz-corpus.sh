#!/usr/bin/env bash
# Regenerates the seed corpora of the fuzz targets into OUTDIR (default
# tests/fuzz/corpus, the committed seeds):
#  1. make_fuzz_corpus: packets of simulated associations, hand-built packets for every
#     chunk/parameter/cause, and scenario inputs for fuzz_endpoint and fuzz_receive;
#  2. real traffic with another stack: runs usrsctp interop scenarios, captures them,
#     extracts each SCTP packet (tshark -e udp.payload), keeps one per chunk-type
#     signature as a fuzz_packet seed, and wraps those as fuzz_endpoint seeds
#     (injected into an established association).
# Builds what it needs in $BUILD_DIR (default build). Needs tshark and usrsctp.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-tests/fuzz/corpus}
build=${BUILD_DIR:-build}
cmake -S . -B "$build" -G Ninja >/dev/null
cmake --build "$build" -j "$(nproc)" --target make_fuzz_corpus sctpp usrsctp_peer

"$build/tests/fuzz/make_fuzz_corpus" "$out"

keep=$(mktemp -d)
trap 'rm -rf "$keep"' EXIT
python3 tests/interop/run_interop.py --sctpp "$build/tools/sctpp" \
  --peer "$build/tests/interop/usrsctp_peer" --scenario A-mixed --scenario B-mixed \
  --scenario B-client-abort --scenario A-peer-shutdown --keep 2>&1 | tee "$keep/interop.log"
mapfile -t dirs < <(sed -n 's/.*\[logs: \(.*\)\]$/\1/p' "$keep/interop.log")
for d in "${dirs[@]}"; do
  for pcap in "$d"/*.pcap; do
    [[ -f $pcap ]] || continue
    # Every UDP payload on the scenario's ports is one SCTP packet (RFC 6951).
    tshark -r "$pcap" -T fields -e udp.payload 2>/dev/null >>"$keep/payloads.hex" || true
  done
done
python3 - "$keep/payloads.hex" "$keep/packets" <<'EOF'
import os, sys
src, dst = sys.argv[1], sys.argv[2]
os.makedirs(dst, exist_ok=True)
seen = {}
n = 0
for line in open(src):
    h = line.strip().replace(':', '')
    if len(h) < 24:
        continue
    b = bytes.fromhex(h)
    types, at = [], 12
    while at + 4 <= len(b):
        ln = b[at + 2] << 8 | b[at + 3]
        if ln < 4:
            break
        types.append(b[at])
        at += (ln + 3) & ~3
    sig = (tuple(types[:6]), len(b) > 600)
    if sig in seen:
        continue
    seen[sig] = True
    with open(os.path.join(dst, 'usrsctp-%03d' % n), 'wb') as f:
        f.write(b)
    n += 1
print('kept %d distinct captured packets' % n)
EOF
rm -f "$out"/fuzz_packet/usrsctp-* "$out"/fuzz_endpoint/wrapped-usrsctp-*
cp "$keep"/packets/* "$out/fuzz_packet/"
"$build/tests/fuzz/make_fuzz_corpus" --wrap-packets "$keep/packets" "$out"
for d in "${dirs[@]}"; do rm -rf "$d"; done
du -sh "$out"/*
