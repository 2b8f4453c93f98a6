"""Booted hosts for the lab: every load balancer (and demo backend) as a Debian 12 machine with
systemd as PID 1, deployed by the bundle's own `ansible-playbook site.yml` over real SSH."""
