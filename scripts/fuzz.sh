#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan + UBSan, coverage) in build-fuzz/ and runs
# each for FUZZ_SECONDS seconds (default 60), printing executions per target.
#
#   scripts/fuzz.sh                          # 60 s per target
#   FUZZ_SECONDS=3600 scripts/fuzz.sh        # an hour per target
#   FUZZ_TARGETS=fuzz_endpoint FUZZ_SECONDS=36000 scripts/fuzz.sh
#   FUZZ_PARALLEL=1 scripts/fuzz.sh          # all targets at once (one core each)
#   FUZZ_RUNS=10000000 FUZZ_SECONDS=0 scripts/fuzz.sh   # 10 M executions per target, no time limit
#   FUZZ_SANITIZERS=undefined FUZZ_BUILD_DIR=build-fuzz-ubsan scripts/fuzz.sh
#                                            # UBSan only (~2.5x the executions of ASan+UBSan)
#   FUZZ_REPLAY_DIR=/work/fuzz-work2/fuzz_endpoint FUZZ_TARGETS=fuzz_endpoint scripts/fuzz.sh
#                                            # run every input of a grown corpus once (ASan+UBSan)
#
# The committed seeds (tests/fuzz/corpus/<target>) and regression inputs
# (tests/fuzz/regressions/<target>) are read, never modified; what the fuzzer learns
# is kept in $FUZZ_WORK/<target> (default build-fuzz/fuzz-work) and reused by the
# next run. A crash or broken invariant stops that target, leaves the input in
# $FUZZ_WORK/artifacts/, and makes the script exit 1 (see tests/fuzz/README.md to
# turn it into a regression test).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${FUZZ_SECONDS:-60}
runs=${FUZZ_RUNS:--1}   # -1: no limit on executions (libFuzzer's default)
targets=${FUZZ_TARGETS:-"fuzz_packet fuzz_endpoint fuzz_receive"}
build=${FUZZ_BUILD_DIR:-build-fuzz}
sanitizers=${FUZZ_SANITIZERS:-address,undefined}
work=${FUZZ_WORK:-$build/fuzz-work}

if ! command -v clang++ >/dev/null; then
  echo "fuzz.sh: clang++ not found (Debian: clang, libclang-rt-14-dev); skipping fuzzing" >&2
  exit 0
fi
CC=clang CXX=clang++ cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DSCTPP_FUZZ=ON -DSCTPP_FUZZ_SANITIZERS="$sanitizers" -DSCTPP_BUILD_TESTS=OFF >/dev/null
# shellcheck disable=SC2086
cmake --build "$build" -j "$(nproc)" --target $targets

mkdir -p "$work/artifacts"
if [[ -n "${FUZZ_REPLAY_DIR:-}" ]]; then
  # Replay only: each file once, no mutation (libFuzzer's -runs=0 over a corpus).
  [[ -d $FUZZ_REPLAY_DIR ]] || { echo "fuzz.sh: FUZZ_REPLAY_DIR $FUZZ_REPLAY_DIR is not a directory" >&2; exit 2; }
  for t in $targets; do
    echo "replaying $(find "$FUZZ_REPLAY_DIR" -type f | wc -l) inputs of $FUZZ_REPLAY_DIR through $t ($sanitizers)"
    "$build/tests/fuzz/$t" -runs=0 -timeout=25 -rss_limit_mb=2560 -max_len=16384 \
      -artifact_prefix="$work/artifacts/$t-" "$FUZZ_REPLAY_DIR" 2>&1 | tail -3
    [[ ${PIPESTATUS[0]} -eq 0 ]] || exit 1
  done
  exit 0
fi
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

run_one() {
  local t=$1 log="$work/$1.log" d dirs=()
  mkdir -p "$work/$t"
  # Read-only inputs (libFuzzer refuses a directory that does not exist; git keeps no
  # empty one).
  for d in "tests/fuzz/corpus/$t" "tests/fuzz/regressions/$t"; do [[ -d $d ]] && dirs+=("$d"); done
  # -rss_limit_mb: the endpoint harness also checks its own heap bound per input.
  "$build/tests/fuzz/$t" "$work/$t" "${dirs[@]}" \
    -max_total_time="$seconds" -runs="$runs" -timeout=25 -rss_limit_mb=2560 -max_len=16384 \
    -print_final_stats=1 -artifact_prefix="$work/artifacts/$t-" >"$log" 2>&1
}

report() {
  local t=$1 rc=$2 log="$work/$1.log"
  local execs rate secs cov
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  secs=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log" | tail -1)
  cov=$(grep -oE 'cov: [0-9]+ ft: [0-9]+' "$log" | tail -1)
  if [[ $rc -eq 0 ]]; then
    printf '%-14s %12s execs  %8s exec/s  %6s s  %s  corpus %s  OK\n' "$t" "${execs:-?}" \
      "${rate:-?}" "${secs:-?}" "${cov:-?}" "$(find "$work/$t" -type f | wc -l)"
  else
    printf '%-14s %12s execs  %8s exec/s  FAILED (exit %d), log: %s\n' "$t" "${execs:-?}" \
      "${rate:-?}" "$rc" "$log"
    grep -E 'invariant failed|ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error|Test unit written' \
      "$log" | head -5 | sed 's/^/    /'
  fi
}

failed=0
declare -A rcs
if [[ -n "${FUZZ_PARALLEL:-}" ]]; then
  declare -A pids
  for t in $targets; do
    run_one "$t" &
    pids[$t]=$!
  done
  for t in $targets; do
    rc=0
    wait "${pids[$t]}" || rc=$?
    rcs[$t]=$rc
  done
else
  for t in $targets; do
    rc=0
    run_one "$t" || rc=$?
    rcs[$t]=$rc
  done
fi
echo "fuzzing, ${seconds} s (0: no limit) and ${runs} executions (-1: no limit) per target:"
for t in $targets; do
  report "$t" "${rcs[$t]}"
  [[ ${rcs[$t]} -eq 0 ]] || failed=1
done
exit $failed
