#!/usr/bin/env bash
# Runs every test project of the solution and ends with one line: "N passed, N failed, N skipped".
set -uo pipefail
cd "$(dirname "$0")/.."

log=$(mktemp)
trap 'rm -f "$log"' EXIT

dotnet build Switchman.slnx -c Debug --nologo -v quiet 2>&1 | tail -n 20
build_status=${PIPESTATUS[0]}
if [ "$build_status" -ne 0 ]; then
  echo "build failed"
  echo "0 passed, 1 failed"
  exit 1
fi

# One project at a time: the failover tests measure behaviour under load and share two cores with the build.
dotnet test Switchman.slnx --no-build --nologo -m:1 2>&1 | tee "$log"
test_status=${PIPESTATUS[0]}

# dotnet test prints one summary per test project: "Passed!  - Failed: 0, Passed: 239, Skipped: 0, Total: 239, ..."
read -r passed failed skipped < <(grep -E '^(Passed|Failed)! +- ' "$log" | sed -E 's/.*Failed: *([0-9]+), Passed: *([0-9]+), Skipped: *([0-9]+).*/\2 \1 \3/' \
  | awk '{p+=$1; f+=$2; s+=$3} END {print p+0, f+0, s+0}')
projects=$(grep -cE '^(Passed|Failed)! +- ' "$log")
if [ "$test_status" -ne 0 ] && [ "$failed" -eq 0 ]; then
  # A test host crashed or a project reported nothing: count it as a failure rather than hide it.
  failed=1
fi
echo "test projects run: $projects"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$test_status" -eq 0 ] && [ "$failed" -eq 0 ]
