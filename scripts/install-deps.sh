#!/usr/bin/env bash
# Installs what building and testing sctpp needs on Debian 12 (run as root).
# Skips apt entirely when everything is already there, so repeated runs are quick.
set -euo pipefail
packages=(
  build-essential cmake ninja-build pkg-config   # the build
  libssl-dev          # OpenSSL: HMAC-SHA256 for state cookies, RAND_bytes
  libfmt-dev          # fmt: formatting in the tool
  libcli11-dev        # CLI11: command-line parsing of the sctpp tool
  libgtest-dev        # GoogleTest: unit, simulation and API tests
  libbenchmark-dev    # Google Benchmark: bench/
  libusrsctp-dev      # usrsctp: the independent SCTP stack we interoperate with
  golang-go           # Go toolchain: builds the pion/sctp interop peer, offline
  golang-github-pion-sctp-dev  # pion/sctp (Go sources): a second independent stack for interop
  tshark              # Wireshark's dissector: checks every interop packet
  python3             # test drivers
  python3-scapy       # independent SCTP packet crafter of the attack tests (tests/attack)
  python3-aiortc      # aiortc's SCTP: a second independent stack for interop (tests/interop)
  iproute2            # network namespaces for multi-host tests
  clang               # fuzzing (libFuzzer) builds, scripts/fuzz.sh
  libclang-rt-14-dev  # libFuzzer and sanitizer runtimes for clang 14 (only recommended by clang)
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
