# bench/netns_lab.sh — shared by the scripts that build labs of network namespaces (cluster.sh, failover.sh): finding,
# emptying and removing them. Functions only (no traps, no settings); the caller defines log() and LAB_PREFIX, and
# names its namespaces LAB_PREFIX<its pid>-<host>.
# shellcheck shell=bash

# lab_namespaces PREFIX: the named network namespaces whose name starts with PREFIX.
lab_namespaces() { ip netns list | awk '{print $1}' | grep -E "^$1" || true; }

# lab_remove NS...: ends every process still inside each namespace (by its PID), then deletes the namespace (which
# takes its veth ends and bridge with it).
lab_remove() {
  local ns pid tries
  for ns in "$@"; do
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null || true; done
    for ((tries = 0; tries < 100; tries++)); do
      [[ -z $(ip netns pids "$ns" 2>/dev/null) ]] && break
      sleep 0.1
    done
    ip netns delete "$ns" 2>/dev/null || log "could not delete network namespace $ns"
  done
}

# remove_stale_labs: leftovers of a run that died without its trap: namespaces LAB_PREFIX<pid>-* whose <pid> is gone.
remove_stale_labs() {
  local ns pid
  for ns in $(lab_namespaces "$LAB_PREFIX[0-9]+-"); do
    pid=${ns#"$LAB_PREFIX"}
    pid=${pid%%-*}
    if [[ ! -d /proc/$pid ]]; then
      log "removing $ns, left by a run that is gone (pid $pid)"
      lab_remove "$ns"
    fi
  done
}
