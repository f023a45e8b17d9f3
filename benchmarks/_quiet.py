"""Is the machine quiet? The cores that processes other than this one (and its children) use over an
interval, from Linux ``/proc/stat``: a benchmark figure taken beside someone else's job is slow for
that reason alone, so a benchmark waits for quiet before each figure and records the others' load."""

from __future__ import annotations

import os
import resource
import time

QUIET_CORES = 0.25  # other processes' CPU use (cores) under which the machine counts as quiet


def _busy_seconds() -> float | None:
    """CPU seconds every process on the machine has used since boot (Linux ``/proc/stat``), or None."""
    try:
        with open("/proc/stat") as fh:
            user, nice, system, _idle, _iowait, irq, softirq = (int(x) for x in fh.readline().split()[1:8])
    except (OSError, ValueError):
        return None
    return (user + nice + system + irq + softirq) / os.sysconf("SC_CLK_TCK")


def _own_seconds() -> float:
    """CPU seconds of this process and of its children that have ended (every figure's process)."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


class Others:
    """How many cores processes other than this benchmark's used over an interval: the machine is
    shared, and a figure taken while someone else's job runs is slow for that reason alone (XLA's
    two threads wait for the one that shares its core: such figures came out ~2× slow)."""

    def __init__(self):
        self.busy, self.own, self.t = _busy_seconds(), _own_seconds(), time.perf_counter()

    def cores(self) -> float | None:
        busy = _busy_seconds()
        if busy is None or self.busy is None:
            return None
        wall = max(time.perf_counter() - self.t, 1e-9)
        return max(0.0, (busy - self.busy - (_own_seconds() - self.own)) / wall)


def wait_quiet(limit: float, log) -> float:
    """Wait (at most `limit` seconds) until other processes use under QUIET_CORES cores for 3 s; the seconds waited."""
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < limit:
        probe = Others()
        time.sleep(3.0)
        load = probe.cores()
        if load is None or load < QUIET_CORES:
            break
        log(f"  other processes use {load:.1f} cores: waiting for a quiet machine …")
    return time.perf_counter() - t0
