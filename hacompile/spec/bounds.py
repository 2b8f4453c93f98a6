"""How long each list in a spec may be, and why: chosen from what a real tier needs.

Every list is bounded so that the work a spec can ask for is bounded: validation, the
failover proof (quadratic in load balancers x checks, see `hacompile.failover.scenarios`) and
the bundle's size. The loader refuses any list or mapping past `hacompile.load.MAX_ITEMS`
while parsing, before the model sees it; these are the precise per-field bounds, shown in
`hacompile schema` through each field's description.
"""

from __future__ import annotations

# AWS has about 35 regions (commercial, GovCloud, China). One tier in more than 32 of them is
# several tiers; 32 of the smallest (2 load balancers) is also `MAX_LB_INSTANCES`.
MAX_REGIONS = 32
# Load balancer instances in the whole spec (regions x load_balancers.count): 8 regions of 8,
# 16 of 4 or 32 of 2. The failover proof costs O(L^3 C^2) per region layout (L load balancers,
# C checks: every pair of failures), so this bound, not the region count alone, is what keeps
# the proof of the largest valid spec near a second (benchmarks/bounds.py): 64 regions of 8
# took 16 s. An active-active pair or trio per region is the norm; 64 instances is more than
# any one tier needs, and each is an EC2 quota and a Keepalived peer to keep.
MAX_LB_INSTANCES = 64
# The most availability zones any region has is 6 (us-east-1).
MAX_ZONES = 6
# A listed backend is a server someone maintains by hand: a handful to a few dozen. A tier
# fronting more names them by DNS (HAProxy re-resolves names at run time). 64 also keeps the
# largest spec (32 regions x 64 backends, ~100 KB) parsing in well under a second.
MAX_EXISTING_BACKENDS = 64
MAX_FRONTENDS = 16
# Each check is a reason to move an EIP: HAProxy, sshd, the gateway and a few sidecars. The
# failover proof enumerates every pair of failures, (load balancers x checks)^2 of them.
MAX_CHECKS = 8
# Each CIDR is a security-group ingress rule; AWS's default quota is 60 inbound rules per
# group, shared with the frontends and the VRRP and health-check rules.
MAX_CIDRS = 20
# AWS allows 50 tags per resource; the bundle sets Name, Role and hacompile:cluster itself.
MAX_TAGS = 40

REGIONS = (
    f"1 to {MAX_REGIONS} regions, and at most {MAX_LB_INSTANCES} load balancers in all "
    "(regions x load_balancers.count)."
)
LB_COUNT = f"Load balancers per region, 2 to 8; regions x count may not exceed {MAX_LB_INSTANCES}."
ZONES = f"2 to {MAX_ZONES} availability zones; the load balancers are spread over them."
EXISTING_BACKENDS = (
    f"Existing servers in this region, at most {MAX_EXISTING_BACKENDS}; not "
    "the load balancers' own addresses, loopback, link-local (the metadata "
    "service), multicast or broadcast."
)
FRONTENDS = f"1 to {MAX_FRONTENDS} listeners, each on its own port (not 22, not the stats port)."
CHECKS = (
    f"At most {MAX_CHECKS} Keepalived checks: the failover proof tries every pair of "
    "failures, so its cost grows with (load balancers x checks)^2."
)
SSH_CIDRS = (
    f"With management: ssh, 1 to {MAX_CIDRS} networks allowed to SSH in (one security-group "
    "rule each; none with ssm); together they may not cover the whole internet or more than "
    "a /8 of it."
)
STATS_CIDRS = (
    f"1 to {MAX_CIDRS} networks allowed to the stats page (one security-group rule "
    "each); together they may not cover more than a /8 of the internet."
)
METRICS_CIDRS = (
    f"1 to {MAX_CIDRS} networks allowed to the metrics port (one security-group rule "
    "each, and HAProxy refuses every other source); together they may not cover more than "
    "a /8 of the internet."
)
TAGS = (
    f"At most {MAX_TAGS} tags added to every resource; keys aws:*, hacompile:*, Name and "
    "Role are reserved."
)

# A pool is an HAProxy backend and, with demo servers, a set of instances: a service's web,
# API, static and admin tiers, not one per customer.
MAX_POOLS = 16
# Routes are ACLs evaluated in order on every request; past a few dozen, a tier wants a map
# file (or a routing layer of its own), not a spec list.
MAX_ROUTES = 64
POOLS = (
    f"At most {MAX_POOLS} named pools, each one HAProxy backend; routes and default_pool name them."
)
ROUTES = (
    f"At most {MAX_ROUTES} routes, tried in order: exact or wildcard (*.example.com) host "
    "and/or path prefix, each to a pool."
)

# A certificate per service name (or one wildcard) and a few for a migration: each is a secret
# every load balancer fetches on every refresh, and an SNI entry on every TLS bind.
MAX_CERTIFICATES = 16
# A certificate's subjectAltName: public CAs allow 100 names; the loader's cap on any list
# (hacompile.load.MAX_ITEMS) is 64, and a certificate checked for more wants a wildcard.
MAX_CERTIFICATE_NAMES = 64
CERTIFICATES = (
    f"1 to {MAX_CERTIFICATES} certificates, each a PEM bundle (key, certificate, chain) in "
    "Secrets Manager or an SSM SecureString."
)
CAS = f"At most {MAX_CERTIFICATES} CA bundles that pools with `tls` verify their servers against."
NAMES = (
    f"1 to {MAX_CERTIFICATE_NAMES} DNS names (or *.wildcards) the certificate must cover; a "
    "stored version that does not cover them all is never installed."
)
