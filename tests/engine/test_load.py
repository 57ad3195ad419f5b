"""The core monitor: idle cores from /proc/stat's counters (a file of the test's own), from the
load average, and on this machine beside a process that keeps a core busy."""

import os
import subprocess
import sys
import time

import pytest

from nnscratch.engine import load

# user nice system idle iowait irq softirq steal guest guest_nice
STAT = "cpu  {t} 0 0 0 0 0 0 0 0 0\ncpu0 {a} 0 {b} 500 7 1 1 1 0 0\ncpu1 {c} 0 0 900 0 0 0 0 0 0\n"


class Clock:
    """time.monotonic and this process's CPU seconds, set by the test."""

    def __init__(self, monkeypatch):
        self.wall, self.own = 100.0, 3.0
        monkeypatch.setattr(load.time, "monotonic", lambda: self.wall)
        monkeypatch.setattr(load, "_own_cpu_seconds", lambda: self.own)
        monkeypatch.setattr(load.time, "sleep", self.sleep)

    def sleep(self, seconds):
        self.wall += seconds


def monitor_of(path, cpus, monkeypatch):
    monkeypatch.setattr(load, "_allowed_cpus", lambda: cpus)
    m = load.CoreMonitor(stat=str(path))
    m.tick = 100
    return m


def test_idle_cores_from_proc_stat(tmp_path, monkeypatch):
    stat = tmp_path / "stat"
    stat.write_text(STAT.format(t=0, a=1000, b=200, c=50))
    clock = Clock(monkeypatch)
    m = monitor_of(stat, [0, 1], monkeypatch)
    # 2 s later: cpu0 busy +150 user +30 system ticks (1.8 s), cpu1 +120 (1.2 s): 3.0 core-s busy,
    # of which this process used 0.6 s: others kept (3.0 - 0.6) / 2 = 1.2 cores busy → 0.8 idle
    clock.wall += 2.0
    clock.own += 0.6
    stat.write_text(STAT.format(t=999, a=1150, b=230, c=170))
    assert m.idle_cores() == pytest.approx(0.8)
    # a look sooner than MIN_WINDOW answers from the same window, without waiting
    clock.wall += load.MIN_WINDOW / 2
    stat.write_text(STAT.format(t=999, a=1150, b=230, c=170))
    assert m.idle_cores() == pytest.approx(0.8)
    assert clock.wall == pytest.approx(102.0 + load.MIN_WINDOW / 2)
    # 1 s more, nobody busy but this process, on one core
    clock.wall += 1.0
    clock.own += 1.0
    stat.write_text(STAT.format(t=999, a=1250, b=230, c=170))
    assert m.idle_cores() == pytest.approx(2.0)


def test_only_the_cores_this_process_may_use_count(tmp_path, monkeypatch):
    stat = tmp_path / "stat"
    stat.write_text(STAT.format(t=0, a=0, b=0, c=0))
    clock = Clock(monkeypatch)
    m = monitor_of(stat, [0], monkeypatch)  # an affinity of cpu0 alone
    clock.wall += 1.0
    stat.write_text(STAT.format(t=0, a=25, b=0, c=100))  # cpu1 fully busy: not ours to use
    assert m.idle_cores() == pytest.approx(0.75)


def test_the_first_look_waits_out_the_window(tmp_path, monkeypatch):
    stat = tmp_path / "stat"
    stat.write_text(STAT.format(t=0, a=0, b=0, c=0))
    clock = Clock(monkeypatch)
    m = monitor_of(stat, [0, 1], monkeypatch)
    assert m.idle_cores() == pytest.approx(2.0)
    assert clock.wall == pytest.approx(100.0 + load.MIN_WINDOW)


def test_without_proc_stat_the_load_average_less_this_process(tmp_path, monkeypatch):
    clock = Clock(monkeypatch)
    monkeypatch.setattr(load.os, "getloadavg", lambda: (1.5, 0.0, 0.0), raising=False)
    m = monitor_of(tmp_path / "no-such-file", [0, 1, 2, 3], monkeypatch)
    clock.wall += 1.0
    clock.own += 0.5  # half of the load average's 1.5 is this process
    assert m.idle_cores() == pytest.approx(3.0)


def test_where_the_system_says_nothing_none(tmp_path, monkeypatch):
    Clock(monkeypatch)
    monkeypatch.delattr(load.os, "getloadavg", raising=False)
    m = monitor_of(tmp_path / "no-such-file", [0, 1], monkeypatch)
    assert m.idle_cores() is None


@pytest.mark.skipif(not os.path.exists("/proc/stat"), reason="Linux's /proc/stat")
def test_a_busy_process_beside_is_seen():
    m = load.CoreMonitor()
    busy = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(0.3)  # the child's start-up
        m.idle_cores()
        time.sleep(0.5)
        # the child keeps (up to) a core busy: whatever else runs, at most cores - 0.5 idle
        assert m.idle_cores() <= len(m.cpus) - 0.5
    finally:
        busy.kill()
        busy.wait()


def test_a_proc_stat_without_our_cores_says_nothing_of_them(tmp_path, monkeypatch):
    # a container's /proc/stat numbered apart from the cores this process may use
    stat = tmp_path / "stat"
    stat.write_text(STAT.format(t=0, a=0, b=0, c=0))
    clock = Clock(monkeypatch)
    monkeypatch.delattr(load.os, "getloadavg", raising=False)
    m = monitor_of(stat, [5, 6], monkeypatch)
    clock.wall += 1.0
    assert m.idle_cores() is None  # not "every core idle"
