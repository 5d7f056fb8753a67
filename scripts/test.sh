#!/usr/bin/env bash
# Builds sctpp and runs every test: unit, simulation, API, tool contract, and
# interop with usrsctp checked by tshark. Installs what it needs first.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
./scripts/build.sh
cd "${BUILD_DIR:-build}"
ctest --output-on-failure -j "$(nproc)" --timeout 900
