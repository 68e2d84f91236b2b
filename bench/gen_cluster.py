#!/usr/bin/env python3
"""Generate one synthetic cluster three ways, for the cluster-name QPS benchmark.

Writes into --out (default: current directory):

  cluster.json     the Kubernetes dump Cairn reads (`kind: List` of v1 Namespaces, v1 Services,
                   discovery.k8s.io/v1 EndpointSlices, v1 Pods), JSON instead of YAML
  cluster.zone     the same records as an RFC 1035 zone file for `cluster.local.`, for Knot:
                   what Cairn serves per docs/spec-checklist.md parts A and C (TTL 5)
  queries.txt      a dnsperf query file: a realistic mix of cluster lookups
  verify.txt       a few `name type` pairs per record kind, for comparing the two servers' answers

With --synthetic, writes cluster.zone only, for the cluster `cairn::cluster::synthetic::cluster`
builds (src/cluster/synthetic.rs; `examples/cluster_probe --snapshot` writes it as a snapshot):
Services `svc-I` round robin over namespaces `team-NN`, ClusterIP 10.96.(I>>8).(I&255), port
`http` 80/TCP, one EndpointSlice of --endpoints-per-service ready endpoints (target port 8080)
each. `bench/cold_start.sh` has Knot load it beside Cairn restoring the snapshot.

Service mix: ~80% ClusterIP with 1-2 named ports and 1-3 (unnamed, dashed-IP) endpoints, ~15%
headless with K ready endpoints that have hostnames (StatefulSet style), ~5% ExternalName (half
pointing at another Service inside the zone, half outside). The same --seed always gives the same
files. Standard library only.
"""

import argparse
import ipaddress
import json
import os
import random
import sys

ZONE = "cluster.local"
TTL = 5
SOA_TTL = min(TTL, 300)

WORDS = (
    "alpha api audit auth billing cache cart catalog checkout config data db edge email events "
    "feed frontend gateway geo graph image index inventory kafka ledger log mail media metrics "
    "notify order payment pdf profile queue rank redis report search session shop social stock "
    "store stream tax token user vault video web worker"
).split()

# (name, protocol, service port, target port): the named ports Services draw from.
PORTS = [
    ("http", "TCP", 80, 8080),
    ("https", "TCP", 443, 8443),
    ("grpc", "TCP", 9090, 9090),
    ("metrics", "TCP", 9100, 9100),
    ("dns", "UDP", 53, 5353),
    ("redis", "TCP", 6379, 6379),
    ("postgres", "TCP", 5432, 5432),
]


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--services", type=int, default=1000, help="number of Services (default 1000)")
    p.add_argument("--endpoints-per-headless", type=int, default=3,
                   help="ready endpoints per headless Service (default 3)")
    p.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    p.add_argument("--queries", type=int, default=50000,
                   help="lines in queries.txt (default 50000; dnsperf loops over the file)")
    p.add_argument("--out", default=".", help="output directory (default .)")
    p.add_argument("--synthetic", action="store_true",
                   help="the synthetic cluster of src/cluster/synthetic.rs; cluster.zone only")
    p.add_argument("--endpoints-per-service", type=int, default=10,
                   help="with --synthetic: ready endpoints per Service (default 10)")
    p.add_argument("--namespaces", type=int, default=100,
                   help="with --synthetic: namespaces team-NN (default 100)")
    a = p.parse_args(argv)
    if a.synthetic:
        if a.services < 1 or a.endpoints_per_service < 0 or a.namespaces < 1:
            p.error("--synthetic needs --services >= 1, --namespaces >= 1")
        return a
    if a.services < 10:
        p.error("--services must be at least 10")
    if a.endpoints_per_headless < 1:
        p.error("--endpoints-per-headless must be at least 1")
    return a


class Ips:
    """Sequential, unique addresses from a network (deterministic, no collisions)."""

    def __init__(self, cidr, skip=0):
        self.net = ipaddress.ip_network(cidr)
        self.next = int(self.net.network_address) + 1 + skip

    def take(self):
        ip = ipaddress.ip_address(self.next)
        if ip not in self.net:
            sys.exit(f"gen_cluster: address pool {self.net} exhausted")
        self.next += 1
        # Skip .0 and .255 so every address looks like an ordinary host address.
        while self.next % 256 in (0, 255):
            self.next += 1
        return str(ip)


def build(args):
    rng = random.Random(args.seed)
    n_ns = max(3, args.services // 25)
    namespaces = ["default", "kube-system"]
    while len(namespaces) < n_ns:
        name = f"{rng.choice(WORDS)}-{rng.choice(['prod', 'staging', 'dev', 'team', 'svc'])}"
        namespaces.append(name if name not in namespaces else f"{name}-{len(namespaces)}")

    cluster_ips = Ips("10.96.0.0/12", skip=20)
    pod_ips = Ips("10.128.0.0/10")
    services = []  # dicts: ns, name, kind, ports, endpoints, ip, target

    def add(ns, name, kind, ports, endpoints, ip=None, target=None):
        services.append(dict(ns=ns, name=name, kind=kind, ports=ports, endpoints=endpoints,
                             ip=ip, target=target))

    # The two Services every cluster has.
    add("default", "kubernetes", "clusterip", [("https", "TCP", 443, 6443)],
        [dict(ip=pod_ips.take(), hostname=None, pod=None)], ip="10.96.0.1")
    add("kube-system", "kube-dns", "clusterip",
        [("dns", "UDP", 53, 53), ("dns-tcp", "TCP", 53, 53), ("metrics", "TCP", 9153, 9153)],
        [dict(ip=pod_ips.take(), hostname=None, pod=f"coredns-{i}") for i in range(2)],
        ip="10.96.0.10")

    used = {("default", "kubernetes"), ("kube-system", "kube-dns")}
    externals = []
    while len(services) < args.services:
        ns = rng.choice(namespaces)
        name = f"{rng.choice(WORDS)}-{rng.choice(WORDS)}"
        if (ns, name) in used:
            name = f"{name}-{len(services)}"
        used.add((ns, name))
        roll = rng.random()
        if roll < 0.80:
            ports = rng.sample(PORTS, rng.choice([1, 1, 2]))
            eps = [dict(ip=pod_ips.take(), hostname=None, pod=f"{name}-{rng.getrandbits(32):08x}")
                   for _ in range(rng.randint(1, 3))]
            add(ns, name, "clusterip", ports, eps, ip=cluster_ips.take())
        elif roll < 0.95:
            ports = rng.sample(PORTS, rng.choice([1, 1, 2]))
            eps = [dict(ip=pod_ips.take(), hostname=f"{name}-{i}", pod=f"{name}-{i}")
                   for i in range(args.endpoints_per_headless)]
            add(ns, name, "headless", ports, eps)
        else:
            add(ns, name, "external", [], [])
            externals.append(services[-1])
    # ExternalName targets: odd ones outside the cluster, even ones another ClusterIP Service.
    clusterip = [s for s in services if s["kind"] == "clusterip"]
    for i, s in enumerate(externals):
        if i % 2:
            s["target"] = f"{s['name']}.example.com"
        else:
            t = rng.choice(clusterip)
            s["target"] = f"{t['name']}.{t['ns']}.svc.{ZONE}"
    return namespaces, services


def synthetic(args):
    """The services of `cairn::cluster::synthetic::cluster(services, per_service, namespaces)`,
    in build()'s shape; keep the two in step."""
    services = []
    per = args.endpoints_per_service
    for i in range(args.services):
        endpoints = []
        for j in range(per):
            host = (i * per + j) & 0xFFFFFFFF
            x, y, z = host >> 16 & 255, host >> 8 & 255, host & 255
            endpoints.append(dict(ip=f"10.{128 + (x & 0x3F)}.{y}.{z}", hostname=None,
                                  pod=f"svc-{i}-7d9f8b6c5-{j:05x}"))
        services.append(dict(ns=f"team-{i % args.namespaces:02}", name=f"svc-{i}",
                             kind="clusterip", ports=[("http", "TCP", 80, 8080)],
                             endpoints=endpoints, ip=f"10.96.{i >> 8 & 255}.{i & 255}",
                             target=None))
    return services


def dump(namespaces, services):
    items = [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": n}} for n in namespaces]
    for s in services:
        meta = {"name": s["name"], "namespace": s["ns"]}
        if s["kind"] == "external":
            spec = {"type": "ExternalName", "externalName": s["target"]}
        else:
            spec = {"type": "ClusterIP",
                    "clusterIP": s["ip"] if s["kind"] == "clusterip" else "None",
                    "ports": [{"name": n, "protocol": pr, "port": p, "targetPort": tp}
                              for n, pr, p, tp in s["ports"]]}
            spec["clusterIPs"] = [spec["clusterIP"]]
        items.append({"apiVersion": "v1", "kind": "Service", "metadata": meta, "spec": spec})
    for s in services:
        if not s["endpoints"]:
            continue
        endpoints = []
        for e in s["endpoints"]:
            ep = {"addresses": [e["ip"]], "conditions": {"ready": True}}
            if e["hostname"]:
                ep["hostname"] = e["hostname"]
            if e["pod"]:
                ep["targetRef"] = {"kind": "Pod", "namespace": s["ns"], "name": e["pod"]}
            endpoints.append(ep)
        items.append({
            "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
            "metadata": {"name": f"{s['name']}-abcde", "namespace": s["ns"],
                         "labels": {"kubernetes.io/service-name": s["name"]}},
            "addressType": "IPv4",
            "endpoints": endpoints,
            "ports": [{"name": n, "protocol": pr, "port": tp} for n, pr, _, tp in s["ports"]],
        })
    for s in services:
        for e in s["endpoints"]:
            if not e["pod"]:
                continue
            spec = {"containers": [{"name": "main", "image": "registry.example/app:1"}]}
            if e["hostname"]:
                spec.update(hostname=e["hostname"], subdomain=s["name"])
            items.append({
                "apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": e["pod"], "namespace": s["ns"]},
                "spec": spec,
                "status": {"phase": "Running", "podIP": e["ip"], "podIPs": [{"ip": e["ip"]}]},
            })
    return {"apiVersion": "v1", "kind": "List", "metadata": {"resourceVersion": ""},
            "items": items}


def dashed(ip):
    return ip.replace(".", "-")


def zone_file(services, ns_ip):
    """What Cairn serves for cluster.local, written out (spec-checklist A and C)."""
    z = ZONE + "."
    out = [
        f"$ORIGIN {z}",
        f"@ {SOA_TTL} IN SOA ns.dns.{z} hostmaster.{z} 1 7200 1800 86400 {TTL}",
        f"@ {TTL} IN NS ns.dns.{z}",
        f"ns.dns {TTL} IN A {ns_ip}",
        f'dns-version 28800 IN TXT "1.1.0"',
    ]
    seen = set()

    def add(line):
        # SRV answers are de-duplicated on (target, port), e.g. `dns` UDP 53 + `dns-tcp` TCP 53.
        if line not in seen:
            seen.add(line)
            out.append(line)

    for s in services:
        owner = f"{s['name']}.{s['ns']}.svc"
        fq = f"{owner}.{z}"
        if s["kind"] == "external":
            out.append(f"{owner} {TTL} IN CNAME {s['target']}.")
            continue
        named = [p for p in s["ports"] if p[0]]
        if s["kind"] == "clusterip":
            out.append(f"{owner} {TTL} IN A {s['ip']}")
            for e in s["endpoints"]:
                out.append(f"{e['hostname'] or dashed(e['ip'])}.{owner} {TTL} IN A {e['ip']}")
            # A bare-name SRV query answers every port; `_port._proto` one (weight 100 / count).
            for n, pr, port, _ in s["ports"]:
                add(f"{owner} {TTL} IN SRV 0 {100 // len(s['ports'])} {port} {fq}")
            for n, pr, port, _ in named:
                out.append(f"_{n}._{pr.lower()}.{owner} {TTL} IN SRV 0 100 {port} {fq}")
        else:  # headless: the service name and each hostname carry the endpoint addresses
            eps = s["endpoints"]
            for e in eps:
                out.append(f"{owner} {TTL} IN A {e['ip']}")
                out.append(f"{e['hostname']}.{owner} {TTL} IN A {e['ip']}")
            all_w = max(1, 100 // (len(eps) * len(s["ports"])))
            for n, pr, _, tport in s["ports"]:
                for e in eps:
                    add(f"{owner} {TTL} IN SRV 0 {all_w} {tport} {e['hostname']}.{fq}")
            for n, pr, _, tport in named:
                w = max(1, 100 // len(eps))
                for e in eps:
                    out.append(f"_{n}._{pr.lower()}.{owner} {TTL} IN SRV 0 {w} {tport} "
                               f"{e['hostname']}.{fq}")
    return "\n".join(out) + "\n"


def queries(rng, services, namespaces, count):
    """A mix shaped like pod traffic: glibc asks A (and AAAA) for service names, the search path
    (`<ns>.svc.<zone> svc.<zone> <zone>`, ndots:5) produces NXDOMAIN misses before the hit."""
    cip = [s for s in services if s["kind"] == "clusterip"]
    hdl = [s for s in services if s["kind"] == "headless"]
    ext = [s for s in services if s["kind"] == "external" and s["target"].endswith(ZONE)]
    srv = [s for s in services if s["kind"] != "external" and s["ports"]]

    def fq(s):
        return f"{s['name']}.{s['ns']}.svc.{ZONE}"

    def other_ns(s):
        return rng.choice([n for n in namespaces[:20] if n != s["ns"]] or namespaces)

    kinds = [  # (weight, maker)
        (55, lambda: f"{fq(rng.choice(cip))} A"),
        (8, lambda: f"{fq(rng.choice(cip))} AAAA"),
        (8, lambda: f"{fq(rng.choice(hdl))} A" if hdl else f"{fq(rng.choice(cip))} A"),
        (2, lambda: (lambda s: f"{s['endpoints'][0]['hostname']}.{fq(s)} A")(rng.choice(hdl))
            if hdl else f"{fq(rng.choice(cip))} A"),
        (8, lambda: (lambda s: (lambda p: f"_{p[0]}._{p[1].lower()}.{fq(s)} SRV")(
            rng.choice(s["ports"])))(rng.choice(srv))),
        # `svc.ns` from a pod in another namespace: first expansion misses.
        (10, lambda: (lambda s: f"{s['name']}.{s['ns']}.{other_ns(s)}.svc.{ZONE} A")(
            rng.choice(cip))),
        # an FQDN-looking name with fewer than 5 dots still walks the search path first.
        (7, lambda: (lambda s: f"{fq(s)}.{other_ns(s)}.svc.{ZONE} A")(rng.choice(cip))),
        (2, lambda: f"{fq(rng.choice(ext))} A" if ext else f"{fq(rng.choice(cip))} A"),
    ]
    weights = [w for w, _ in kinds]
    makers = [m for _, m in kinds]
    return [rng.choices(makers, weights)[0]() for _ in range(count)]


def verify_names(services, namespaces):
    """One or two names per record kind (the first of each in generation order)."""
    def first(kind, pred=lambda s: True):
        return next((s for s in services if s["kind"] == kind and pred(s)), None)

    z = ZONE
    out = [f"kubernetes.default.svc.{z} A"]
    c = first("clusterip", lambda s: s["ns"] not in ("default", "kube-system"))
    h = first("headless")
    e_in = first("external", lambda s: s["target"].endswith(z))
    e_out = first("external", lambda s: not s["target"].endswith(z))
    if c:
        fq = f"{c['name']}.{c['ns']}.svc.{z}"
        p = c["ports"][0]
        out += [f"{fq} A", f"{fq} AAAA", f"{fq} SRV", f"_{p[0]}._{p[1].lower()}.{fq} SRV",
                f"{dashed(c['endpoints'][0]['ip'])}.{fq} A", f"{fq} TXT",
                f"{c['name']}.{c['ns']}.{namespaces[0]}.svc.{z} A",
                f"{fq}.{namespaces[0]}.svc.{z} A", f"_nope._tcp.{fq} SRV",
                f"nosuch.{c['ns']}.svc.{z} A"]
    if h:
        fq = f"{h['name']}.{h['ns']}.svc.{z}"
        p = h["ports"][0]
        out += [f"{fq} A", f"{h['endpoints'][0]['hostname']}.{fq} A",
                f"_{p[0]}._{p[1].lower()}.{fq} SRV", f"{fq} SRV"]
    if e_in:
        out += [f"{e_in['name']}.{e_in['ns']}.svc.{z} A", f"{e_in['name']}.{e_in['ns']}.svc.{z} CNAME"]
    if e_out:
        out += [f"{e_out['name']}.{e_out['ns']}.svc.{z} CNAME",
                f"{e_out['name']}.{e_out['ns']}.svc.{z} A"]
    out += [f"{z} SOA", f"{z} NS", f"dns-version.{z} TXT", f"svc.{z} A", f"default.svc.{z} A",
            f"nosuchns.svc.{z} A", f"foo.{z} A", f"kube-dns.kube-system.svc.{z} SRV"]
    return out


def main(argv):
    args = parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    if args.synthetic:
        services = synthetic(args)
        with open(os.path.join(args.out, "cluster.zone"), "w", encoding="ascii") as f:
            f.write(zone_file(services, "127.0.0.1"))
        print(f"gen_cluster: synthetic cluster, {len(services)} services x "
              f"{args.endpoints_per_service} endpoints in {args.namespaces} namespaces "
              f"-> {args.out}/cluster.zone", file=sys.stderr)
        return
    namespaces, services = build(args)
    q = queries(random.Random(args.seed + 1), services, namespaces, args.queries)
    files = {
        "cluster.json": json.dumps(dump(namespaces, services), indent=1) + "\n",
        "cluster.zone": zone_file(services, "127.0.0.1"),
        "queries.txt": "\n".join(q) + "\n",
        "verify.txt": "\n".join(verify_names(services, namespaces)) + "\n",
    }
    for name, text in files.items():
        with open(os.path.join(args.out, name), "w", encoding="ascii") as f:
            f.write(text)
    kinds = {k: sum(1 for s in services if s["kind"] == k)
             for k in ("clusterip", "headless", "external")}
    print(f"gen_cluster: {len(namespaces)} namespaces, {len(services)} services "
          f"({kinds['clusterip']} ClusterIP, {kinds['headless']} headless, "
          f"{kinds['external']} ExternalName), {len(q)} queries -> {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1:])
