"""How many cores the other processes leave idle, measured while a run goes.

idle cores = cores − (busy time of all cores − this process's own CPU time) / wall time

over the window since the last look. On Linux the busy time is read from ``/proc/stat`` (the
cores this process may run on, in clock ticks); elsewhere with a load average (macOS, the BSDs)
it is the one-minute load average, less this process's share; where the system says neither
(Windows) nothing is known and :meth:`CoreMonitor.idle_cores` returns ``None``. A look costs a
file read (tens of microseconds), never a wait, except the very first, which waits out the rest
of :data:`MIN_WINDOW` since the monitor began.
"""

import os
import time

__all__ = ["MIN_WINDOW", "CoreMonitor", "monitor"]

#: Seconds a window must last to say anything: a few of the kernel's 10 ms clock ticks.
MIN_WINDOW = 0.05


def _allowed_cpus():
    """The cores this process may run on (its affinity, or every core)."""
    try:
        return sorted(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows: no affinity call
        return list(range(os.cpu_count() or 1))


def _proc_stat_busy(cpus, path="/proc/stat"):
    """Busy clock ticks of ``cpus`` since boot, from ``/proc/stat``'s ``cpuN`` lines (user,
    nice, system, irq, softirq, steal; idle and iowait are not busy); ``None`` without the
    file or without a line for any of them."""
    wanted = {f"cpu{i}" for i in cpus}
    busy, found = 0, 0
    try:
        with open(path, "rb") as f:
            for line in f:
                fields = line.split()
                if fields and fields[0].decode() in wanted:
                    user, nice, system, _idle, _iowait, irq, softirq, steal = map(int, fields[1:9])
                    busy += user + nice + system + irq + softirq + steal
                    found += 1
    except (OSError, ValueError):
        return None
    # none of our cores listed (a container's /proc/stat numbered apart): it says nothing of them
    return busy if found else None


def _own_cpu_seconds():
    """CPU seconds this process (all its threads) has used."""
    times = os.times()
    return times.user + times.system


class CoreMonitor:
    """Idle cores since the last look: ``monitor.idle_cores()`` → float in [0, cores] or None.

    ``stat`` is the path of ``/proc/stat`` (a test points it at a file of its own)."""

    def __init__(self, stat="/proc/stat"):
        self.stat = stat
        self.cpus = _allowed_cpus()
        self.tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
        self._last = self._reading()
        self._answer = None  # the last window's idle cores

    def _reading(self):
        """(wall seconds, others' measure, own CPU seconds) now; the measure is busy ticks on
        Linux, the load average elsewhere, None where there is neither."""
        busy = _proc_stat_busy(self.cpus, self.stat)
        if busy is None and hasattr(os, "getloadavg"):
            busy = os.getloadavg()[0]  # an average already: read as cores, not ticks
            return time.monotonic(), ("load", busy), _own_cpu_seconds()
        return time.monotonic(), None if busy is None else ("ticks", busy), _own_cpu_seconds()

    def idle_cores(self):
        """Cores the other processes left idle since the last look (waiting out the rest of
        :data:`MIN_WINDOW` only on the first look); ``None`` where the system says nothing.
        A look sooner than :data:`MIN_WINDOW` after the last answers from the same window."""
        wall0, measure0, own0 = self._last
        if measure0 is None:
            return None
        wait = MIN_WINDOW - (time.monotonic() - wall0)
        if wait > 0:
            if self._answer is not None:
                return self._answer
            time.sleep(wait)
        now = self._reading()
        wall1, measure1, own1 = now
        if measure1 is None or measure1[0] != measure0[0]:
            return None
        elapsed = wall1 - wall0
        own = (own1 - own0) / elapsed  # cores this process kept busy
        if measure1[0] == "ticks":
            others = (measure1[1] - measure0[1]) / self.tick / elapsed - own
        else:  # the load average counts this process's running threads too
            others = measure1[1] - own
        self._last = now
        self._answer = min(len(self.cpus), max(0.0, len(self.cpus) - others))
        return self._answer


_MONITOR = None


def monitor():
    """The process's one :class:`CoreMonitor`, begun at the first call."""
    global _MONITOR
    if _MONITOR is None:
        _MONITOR = CoreMonitor()
    return _MONITOR
