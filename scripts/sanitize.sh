#!/usr/bin/env bash
# The whole test suite in an AddressSanitizer + UndefinedBehaviorSanitizer
# build (CNIST_SANITIZE=ON), leak checking on. Passes only when every test
# passes AND no sanitizer wrote a report: reports go to files rather than
# stderr, so a report from a `cnist` run that a test expects to fail (exit
# status 1 either way) is still caught.
#   scripts/sanitize.sh                 build build-asan, run every test
#   scripts/sanitize.sh -R '^data/'     extra arguments go to ctest
# The build folder is build-asan, or $CNIST_ASAN_BUILD.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

build="${CNIST_ASAN_BUILD:-build-asan}"
start=$(date +%s)
# RelWithDebInfo: -O2 -g, so reports carry file:line. Warnings are the
# normal build's business (-O2 warns differently from -O3): not errors here.
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCNIST_SANITIZE=ON -DCNIST_WERROR=OFF >/dev/null
cmake --build "$build" -j2 >/dev/null
built=$(date +%s)

logs="$PWD/$build/sanitizer-logs"
rm -rf "$logs"
mkdir -p "$logs"
# Leaks are checked (detect_leaks=1, the default, said out loud): memory
# still reachable at exit (OpenMP's and OpenBLAS's thread pools) is not a
# leak and LeakSanitizer does not report it; nothing is suppressed (the MPI
# test turns leak checking off for its mpirun jobs: Open MPI's own).
export ASAN_OPTIONS="log_path=$logs/asan:detect_leaks=1:detect_stack_use_after_return=1:check_initialization_order=1:strict_string_checks=1"
export UBSAN_OPTIONS="log_path=$logs/ubsan:print_stacktrace=1:halt_on_error=1"

# The *_valgrind tests run valgrind, which cannot run sanitized programs;
# scripts/check-memory.sh covers what they check and more.
status=0
ctest --test-dir "$build" --output-on-failure -E '_valgrind$' "$@" || status=1
finished=$(date +%s)

reports=$(find "$logs" -type f | sort)
if [ -n "$reports" ]; then
  echo "sanitize.sh: $(echo "$reports" | wc -l) sanitizer report(s):" >&2
  for r in $reports; do
    echo "==== $r" >&2
    cat "$r" >&2
  done
  status=1
fi
echo "sanitize.sh: build $((built - start))s, tests $((finished - built))s;" \
     "$([ $status = 0 ] && echo 'no sanitizer reports, all tests passed' || echo FAILED)" >&2
exit $status
