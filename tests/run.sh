#!/usr/bin/env bash
# The README's test command: installs what is missing (Debian 12), builds, starts what the tests
# need (an ephemeral PostgreSQL, as a ctest fixture) and runs every test through ctest:
#   1. RelWithDebInfo build with -Werror: unit + integration tests
#   2. ASan+UBSan build: unit tests
#   3. clang libFuzzer build: every fuzz target over its seed corpus (bounded runs)
# and, after the first, OpenStack tempest's Images v2 API tests (tests/tempest.sh).
# Knobs: GLINT_SKIP_ASAN=1, GLINT_SKIP_FUZZ=1, GLINT_SKIP_TEMPEST=1, GLINT_JOBS (default: nproc), CTEST_ARGS.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
jobs=${GLINT_JOBS:-$(nproc)}
# ccache (when installed) reuses objects across checkouts in other directories too.
export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$here} CCACHE_NOHASHDIR=${CCACHE_NOHASHDIR:-1}

"$here/deploy/install-deps.sh"

summary=()
passed=0
failed=0
status=0

run_ctest() {  # name build-dir ctest-args...
  local name=$1 dir=$2
  shift 2
  local log="$dir/ctest-$name.log"
  set +e
  (cd "$dir" && ctest --output-on-failure --timeout 600 -j "$jobs" "$@" ${CTEST_ARGS:-}) 2>&1 | tee "$log"
  local rc=${PIPESTATUS[0]}
  set -e
  local line
  line=$(grep -E 'tests passed, [0-9]+ tests? failed out of [0-9]+' "$log" | tail -n1 || true)
  local total fail
  total=$(sed -E 's/.* out of ([0-9]+).*/\1/' <<<"$line")
  fail=$(sed -E 's/.*passed, ([0-9]+) tests? failed.*/\1/' <<<"$line")
  total=${total:-0}
  fail=${fail:-0}
  passed=$((passed + total - fail))
  failed=$((failed + fail))
  summary+=("$name: $((total - fail))/$total passed (rc=$rc)")
  if [ "$rc" -ne 0 ]; then status=1; fi
}

echo "== build (RelWithDebInfo, -Werror)"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DGLINT_WERROR=ON >/dev/null
cmake --build build -j "$jobs"
run_ctest main build

# OpenStack's own Images v2 API tests against a glint cluster in keystone mode (tests/tempest.sh).
if [ "${GLINT_SKIP_TEMPEST:-0}" != 1 ]; then
  echo "== tempest (tempest.api.image.v2, keystone mode)"
  set +e
  "$here/tests/tempest.sh" build 2>&1 | tee build/tempest.log
  trc=${PIPESTATUS[0]}
  set -e
  tline=$(grep -E '^tempest-images: ' build/tempest.log | tail -n1 || true)
  summary+=("tempest: ${tline:-no result} (rc=$trc)")
  if [ "$trc" -ne 0 ]; then status=1; failed=$((failed + 1)); else passed=$((passed + 1)); fi
fi

if [ "${GLINT_SKIP_ASAN:-0}" != 1 ]; then
  echo "== build (ASan+UBSan)"
  cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DGLINT_SANITIZE=ON -DGLINT_WERROR=ON >/dev/null
  cmake --build build-asan -j "$jobs" --target glint_unit_tests
  # The simulation runs fewer seeds under the sanitizers (each is ~5x slower there).
  GLINT_SIM_SEEDS=${GLINT_SIM_SEEDS_ASAN:-6} \
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    run_ctest asan build-asan -L unit
fi

if [ "${GLINT_SKIP_FUZZ:-0}" != 1 ]; then
  echo "== build (libFuzzer, clang)"
  CXX=clang++ cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=Debug -DGLINT_FUZZ=ON -DGLINT_TESTS=ON >/dev/null
  fuzz_targets=$(sed -nE 's/^glint_fuzz\(([a-z_]+) .*/\1/p' tests/fuzz/*_fuzz.cmake | tr '\n' ' ')
  # shellcheck disable=SC2086
  cmake --build build-fuzz -j "$jobs" --target $fuzz_targets
  run_ctest fuzz build-fuzz -L fuzz
fi

echo
printf '%s\n' "${summary[@]}"
echo "$passed passed, $failed failed"
exit $status
