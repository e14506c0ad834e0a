# bench/netns_lab.sh — shared by the scripts that build labs of network namespaces (cluster.sh, failover.sh, soak.sh):
# making the switch and the hosts, finding, emptying and removing them. Functions only (no traps, no settings); the
# caller defines log() and LAB_PREFIX, and names its namespaces LAB_PREFIX<its pid>-<host>.
# shellcheck shell=bash

# lab_switch LAB: the namespace LAB-sw with lo up and a bridge br0. No spanning tree (the default): a port forwards the
# moment it is up, so a host whose port comes back up is reachable at once.
lab_switch() {
  ip netns add "$1-sw"
  ip -n "$1-sw" link set lo up
  ip -n "$1-sw" link add br0 type bridge
  ip -n "$1-sw" link set br0 up
}

# lab_host LAB NAME ADDRESS/LEN: a namespace LAB-NAME with lo up and eth0 = ADDRESS/LEN, cabled to port p-NAME of the
# bridge in LAB-sw. Both ends of the cable are made inside the lab (the pair in the switch's namespace, its other end
# sent straight into the host's): no interface appears in the root namespace, even for a moment.
lab_host() {
  local lab=$1 name=$2 address=$3 ns=$1-$2
  ip netns add "$ns"
  ip -n "$ns" link set lo up
  ip -n "$lab-sw" link add "p-$name" type veth peer name eth0 netns "$ns"
  ip -n "$lab-sw" link set "p-$name" master br0
  ip -n "$lab-sw" link set "p-$name" up
  ip -n "$ns" addr add "$address" dev eth0
  ip -n "$ns" link set eth0 up
}

# lab_cluster LAB: the lab of bench/cluster.sh and bench/soak.sh: the switch, three node hosts n1–n3 (192.0.2.11–13)
# and an operator's host ops (192.0.2.254), where the measuring script runs.
lab_cluster() {
  lab_switch "$1"
  lab_host "$1" n1 192.0.2.11/24
  lab_host "$1" n2 192.0.2.12/24
  lab_host "$1" n3 192.0.2.13/24
  lab_host "$1" ops 192.0.2.254/24
}

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
