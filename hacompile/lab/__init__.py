"""`hacompile lab`: run one region's compiled LB tier inside network namespaces and fail it over.

Why a lab: a user should see their spec fail over, with the real Keepalived and HAProxy and the
bundle's own scripts, before spending anything on AWS. Modules: topology (addresses, namespaces),
proc (processes inside namespaces), render (the bundle's artefacts), cloud (moto + fault proxy +
the edge's EIP DNAT), hosts (LB and backend lifecycles), probe (the client), scenarios, runner,
report, cleanup.
"""
