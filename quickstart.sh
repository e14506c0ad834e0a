#!/usr/bin/env bash
# Starts the quickstart: Switchman on 127.0.0.1:8080 (admin on 127.0.0.1:9090) with examples/quickstart.yaml; it runs
# the two demo REST backends (127.0.0.1:9001 and :9002) itself, as supervised services. Ctrl+C stops everything.
set -euo pipefail
cd "$(dirname "$0")"

out=artifacts/switchman
echo "building Switchman (Release) into $out ..."
dotnet build src/Switchman -c Release -o "$out" --nologo -v quiet
switchman=(dotnet "$out/switchman.dll")

pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT INT TERM

"${switchman[@]}" check -c examples/quickstart.yaml
"${switchman[@]}" run -c examples/quickstart.yaml & pids+=($!)

# Until the load balancer answers through a backend (the services start, then pass their health checks).
for _ in $(seq 1 150); do
  curl -fs http://127.0.0.1:8080/hello >/dev/null 2>&1 && break
  sleep 0.2
done
cat <<'MSG'

Switchman is up:
  curl http://127.0.0.1:8080/hello                  # answered by backend a or b
  curl http://127.0.0.1:9090/metrics                # Prometheus metrics
  http://127.0.0.1:9090/ in a browser               # the dashboard; sign in with the token quickstart-demo-token
In another shell, the CLI (the quickstart's demo admin token is in examples/quickstart.yaml):
  export SWITCHMAN_TOKEN=quickstart-demo-token
  dotnet artifacts/switchman/switchman.dll status
  dotnet artifacts/switchman/switchman.dll server drain api a --wait
  dotnet artifacts/switchman/switchman.dll service list
  dotnet artifacts/switchman/switchman.dll service restart demo-a --rolling
  dotnet artifacts/switchman/switchman.dll events --follow
Press Ctrl+C to stop.
MSG
wait "${pids[0]}"
