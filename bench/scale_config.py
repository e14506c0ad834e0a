#!/usr/bin/env python3
"""bench/scale_config.py KIND FILE — grows a configuration rendered by bench/lib.sh, in place, for the cost-as-work-grows
runs of bench/compare.sh (SERVERS=N, ROUTES=N):

- SERVERS=N (default 2): the backend gets N servers instead of a and b, alternately on backend a's and b's port (each a
  server of its own to the proxy: its own connection pool, health checks and place in the balancer).
- ROUTES=N (default 1): the frontend gets N-1 prefix routes (/r1 … /r{N-1}) that the measured path does not match,
  before the default backend: every request is matched against all of them (HAProxy: `use_backend … if { path_beg }`,
  NGINX: `location /rK`, Switchman: `routes:`), all to the same backend so nothing else grows.
- TLS_CERT=FILE TLS_KEY=FILE (TLS_PEM=FILE, both in one, for HAProxy): the frontend serves HTTPS with that certificate.

KIND is switchman, switchman2, haproxy or nginx; any other kind (yarp) is left as it is.
"""

import os
import re
import sys


def server_ports(text, kind):
    if kind == "haproxy":
        return re.findall(r"server [ab] 127\.0\.0\.1:(\d+)", text)
    if kind == "nginx":
        return re.findall(r"server 127\.0\.0\.1:(\d+) max_fails", text)
    return re.findall(r"address: 127\.0\.0\.1:(\d+)", text)


def grow_switchman(text, servers, routes, ports, tls):
    if servers != 2:
        block = "".join(f"      - name: s{i}\n        address: 127.0.0.1:{ports[(i - 1) % 2]}\n" for i in range(1, servers + 1))
        text = re.sub(r"(    servers:\n)(      - name: a\n.*?\n      - name: b\n.*?\n)", lambda m: m.group(1) + block, text, flags=re.S)
    if routes > 1:
        block = "    routes:\n" + "".join(f"      - path: /r{i}\n        backend: api\n" for i in range(1, routes))
        text = text.replace("    default_backend: api\n", block + "    default_backend: api\n", 1)
    if tls:
        block = f"    tls:\n      certificates:\n        - cert: {tls[0]}\n          key: {tls[1]}\n"
        text = re.sub(r"(  web:\n    listen: .*\n)", lambda m: m.group(1) + block, text, count=1)
    return text


def grow_haproxy(text, servers, routes, ports, tls):
    if servers != 2:
        line = "    server s{i} 127.0.0.1:{port} check inter 2s rise 2 fall 3\n"
        block = "".join(line.format(i=i, port=ports[(i - 1) % 2]) for i in range(1, servers + 1))
        text = re.sub(r"    server a .*\n    server b .*\n", block, text)
    if routes > 1:
        block = "".join(f"    use_backend api if {{ path_beg /r{i} }}\n" for i in range(1, routes))
        text = text.replace("    default_backend api\n", block + "    default_backend api\n", 1)
    if tls:
        text = re.sub(r"(    bind 127\.0\.0\.1:\d+)\n", lambda m: f"{m.group(1)} ssl crt {tls[2]}\n", text, count=1)
    return text


def grow_nginx(text, servers, routes, ports, tls):
    if servers != 2:
        block = "".join(f"        server 127.0.0.1:{ports[(i - 1) % 2]} max_fails=3 fail_timeout=10s;\n" for i in range(1, servers + 1))
        text = re.sub(r"(        server 127\.0\.0\.1:\d+ max_fails=3 fail_timeout=10s;\n){2}", block, text)
    if routes > 1:
        location = re.search(r"        location / \{\n.*?\n        \}\n", text, flags=re.S).group(0)
        block = "".join(location.replace("location / {", f"location /r{i} {{") for i in range(1, routes))
        text = text.replace(location, block + location, 1)
    if tls:
        text = re.sub(r"(        listen 127\.0\.0\.1:\d+);\n", lambda m: f"{m.group(1)} ssl;\n        ssl_certificate {tls[0]};\n        ssl_certificate_key {tls[1]};\n", text, count=1)
    return text


def main():
    kind, path = sys.argv[1], sys.argv[2]
    servers = int(os.environ.get("SERVERS", "2"))
    routes = int(os.environ.get("ROUTES", "1"))
    tls = (os.environ["TLS_CERT"], os.environ["TLS_KEY"], os.environ.get("TLS_PEM", "")) if os.environ.get("TLS_CERT") else None
    if servers < 2 or routes < 1:
        sys.exit("SERVERS must be 2 or more, ROUTES 1 or more")
    grow = {"switchman": grow_switchman, "switchman2": grow_switchman, "haproxy": grow_haproxy, "nginx": grow_nginx}.get(kind)
    if grow is None:
        return
    with open(path) as f:
        text = f.read()
    ports = server_ports(text, kind)
    if len(ports) != 2:
        sys.exit(f"{path}: expected the two servers of the template, found {len(ports)}")
    grown = grow(text, servers, routes, ports, tls)
    if (servers != 2 or routes > 1 or tls) and grown == text:
        sys.exit(f"{path}: the {kind} template changed shape; nothing was grown")
    with open(path, "w") as f:
        f.write(grown)


if __name__ == "__main__":
    main()
