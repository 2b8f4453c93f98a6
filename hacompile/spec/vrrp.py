"""VRRP timer arithmetic the rules and the failover proof share (Keepalived 2.2, vrrp.c).

A BACKUP takes over when it has heard no advert for master_down_interval = 3 x advert_int +
skew, skew = (256 - priority) / 256 of a second for VRRPv2 (RFC 3768) and of advert_int for
VRRPv3 (RFC 5798). Two backups whose priorities differ by `step` therefore fire `step` x that
unit / 256 apart: the only thing that decides which of them takes over a lost MASTER's EIP.
"""

from __future__ import annotations

import math

# Neighbouring backups' takeover timers closer than this can swap on a busy host: the lab saw
# it at 4 ms (step 1) and once at 19.5 ms (step 5) on a loaded 2-vCPU machine
# (docs/failover.md, "Two backups, one takeover").
MIN_TAKEOVER_GAP_S = 0.020


def skew_unit(vrrp_version: int, advert_int: float) -> float:
    """Seconds that one point of priority (x 256) is worth in the skew."""
    return float(advert_int) if vrrp_version == 3 else 1.0


def takeover_gap(step: int, vrrp_version: int, advert_int: float) -> float:
    """Seconds between the takeover timers of two backups `step` priority points apart."""
    return step * skew_unit(vrrp_version, advert_int) / 256


def step_for_gap(vrrp_version: int, advert_int: float, gap: float = MIN_TAKEOVER_GAP_S) -> int:
    """The smallest step whose takeover timers are at least `gap` apart."""
    return math.ceil(round(gap * 256 / skew_unit(vrrp_version, advert_int), 9))
