#!/usr/bin/env bash
# bench/startup.sh — start-up to serving: from exec until the first proxied request answers 200, for Switchman (as
# built: `dotnet switchman.dll`, and as packaged: the self-contained, single-file ReadyToRun binary eng/package.sh
# makes), HAProxy and NGINX, in front of the same two demo backends, each started TRIALS times in interleaved order.
# Each start is timed by bench/startup.py (GET every 2 ms on a fresh connection; see there).
#
# Environment (all optional):
#   TRIALS=10        starts per proxy
#   PROXIES="switchman switchman-packaged haproxy nginx"
#   OUT=bench/results/startup-<UTC timestamp>.csv
#   SKIP_BUILD=1     use the existing Release build
#   PACKAGED=FILE    use this packaged binary instead of publishing one
#   AOT=FILE         also start this Switchman binary as "switchman-aot" (a Native AOT publish, see docs/benchmarks.md)
#   KEEP_TMP=1       keep the temp dir (configs, logs)
# Needs: dotnet, haproxy, nginx, curl, python3.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH=$ROOT/bench
TRIALS=${TRIALS:-10}
PROXIES=${PROXIES:-"switchman switchman-packaged haproxy nginx${AOT:+ switchman-aot}"}
REQUEST_PATH=/api/items
OUT=${OUT:-$BENCH/results/startup-$(date -u +%Y%m%dT%H%M%SZ).csv}
LOG_TAG=startup
source "$BENCH/lib.sh"

require_tools dotnet haproxy nginx curl python3
make_tmp
if [[ ${SKIP_BUILD:-0} != 1 ]]; then
  log "building Switchman (Release)"
  dotnet build -c Release "$ROOT/src/Switchman" -nologo -v quiet >"$TMP/build.log" 2>&1 || { tail -30 "$TMP/build.log" >&2; die "build failed"; }
fi
[[ -f $SWITCHMAN_DLL ]] || die "$SWITCHMAN_DLL missing (dotnet build -c Release src/Switchman)"
PACKAGED=${PACKAGED:-}
if [[ $PROXIES == *switchman-packaged* && -z $PACKAGED ]]; then
  log "publishing the packaged binary (self-contained, single file, ReadyToRun), as eng/package.sh does"
  dotnet publish "$ROOT/src/Switchman/Switchman.csproj" -c Release -r linux-x64 --self-contained \
    -p:PublishSingleFile=true -p:PublishReadyToRun=true -o "$TMP/publish" --nologo -v quiet >"$TMP/publish.log" 2>&1 \
    || { tail -30 "$TMP/publish.log" >&2; die "publish failed"; }
  PACKAGED=$TMP/publish/switchman
fi
mkdir -p "$(dirname "$OUT")"

start_backends
args=()
for p in $PROXIES; do
  read -r port admin <<<"$(free_ports 2)"
  case $p in
    switchman)
      render switchman.yaml.template "$port" "$TMP/switchman.yaml" "$admin"
      args+=("$p=http://127.0.0.1:$port$REQUEST_PATH=dotnet $SWITCHMAN_DLL run -c $TMP/switchman.yaml")
      ;;
    switchman-packaged)
      render switchman.yaml.template "$port" "$TMP/switchman-packaged.yaml" "$admin"
      args+=("$p=http://127.0.0.1:$port$REQUEST_PATH=$PACKAGED run -c $TMP/switchman-packaged.yaml")
      ;;
    switchman-aot)
      [[ -x ${AOT:-} ]] || die "switchman-aot needs AOT=path/to/a/native/switchman"
      render switchman.yaml.template "$port" "$TMP/switchman-aot.yaml" "$admin"
      args+=("$p=http://127.0.0.1:$port$REQUEST_PATH=$AOT run -c $TMP/switchman-aot.yaml")
      ;;
    haproxy)
      render haproxy.cfg.template "$port" "$TMP/haproxy.cfg"
      args+=("$p=http://127.0.0.1:$port$REQUEST_PATH=haproxy -db -f $TMP/haproxy.cfg")
      ;;
    nginx)
      render nginx.conf.template "$port" "$TMP/nginx.conf"
      args+=("$p=http://127.0.0.1:$port$REQUEST_PATH=nginx -p $TMP/nginx/ -c $TMP/nginx.conf")
      ;;
    *) die "unknown proxy '$p'" ;;
  esac
done

log "$TRIALS starts per proxy: $PROXIES"
TRIALS=$TRIALS LOGDIR=$TMP run_bounded $((TRIALS * 4 * 30 + 60)) "$OUT.txt" python3 "$BENCH/startup.py" "${args[@]}" || rc=$?
sed -n '/^trial,/,/^$/p' "$OUT.txt" | sed '/^$/d' >"$OUT"
sed -n '/^proxy /,$p' "$OUT.txt"
rm -f "$OUT.txt"
log "wrote $OUT"
exit "${rc:-0}"
