"""experiments.search on a Dask cluster (``backend="dask"``): the scheduler's address checked, the
one-line errors of a missing Dask, a missing or unreachable scheduler, and a search on a local
cluster of two worker processes, interrupted and resumed, that gives the trials of ``n_jobs=1``."""

import socket
import sys
import time

import pytest

from nnscratch.errors import NnscratchError
from nnscratch.experiments import search
from nnscratch.experiments.search import random_search, scheduler_address

#: a search that takes a second or two: digits, one small hidden layer, few epochs
TINY = {"hidden": (20,), "epochs": 2}


def without_seconds(trials):
    return [{k: v for k, v in t.items() if k != "seconds"} for t in trials]


def free_port():
    """A port on 127.0.0.1 that nothing listens on (bound, then let go)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def cluster():
    """Two Dask worker processes, one thread each, on 127.0.0.1 (they import nnscratch as
    installed in this environment)."""
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=2,
        processes=True,
        threads_per_worker=1,
        host="127.0.0.1",
        dashboard_address=None,
    ) as local:
        yield local


# --- the address and the errors ----------------------------------------------------------------
@pytest.mark.parametrize(
    "text, address",
    [
        ("tcp://127.0.0.1:8786", "tcp://127.0.0.1:8786"),
        ("127.0.0.1:8786", "tcp://127.0.0.1:8786"),
        (" scheduler.example.org:8786 ", "tcp://scheduler.example.org:8786"),
        ("[::1]:8786", "tcp://[::1]:8786"),
        ("tcp://node-3:08786", "tcp://node-3:8786"),
    ],
)
def test_a_scheduler_address_is_read_as_tcp(text, address):
    assert scheduler_address(text) == address


@pytest.mark.parametrize(
    "text", ["127.0.0.1", "tcp://127.0.0.1", "http://h:8786", "tls://h:8786", "h:0", "h:65536", ""]
)
def test_a_bad_scheduler_address_says_how_to_write_one(text):
    with pytest.raises(NnscratchError, match="as tcp://HOST:PORT or HOST:PORT, e.g. tcp://"):
        scheduler_address(text)


@pytest.mark.parametrize(
    "options, message",
    [
        ({"backend": "dask"}, "--backend dask needs the address of its scheduler: add --scheduler"),
        ({"scheduler": "127.0.0.1:8786"}, "address of a Dask scheduler: add --backend dask"),
        ({"backend": "loky", "scheduler": "h:1"}, "add --backend dask"),
        ({"backend": "ray"}, "backend must be one of loky, dask, got 'ray'"),
        ({"backend": "dask", "scheduler": "h:1", "n_jobs": 2}, "leave out --n-jobs"),
        ({"backend": "dask", "scheduler": "h"}, "tcp://HOST:PORT or HOST:PORT"),
    ],
)
def test_backend_options_that_do_not_go_together_are_refused_before_a_folder(
    tmp_path, options, message
):
    with pytest.raises(NnscratchError) as info:
        random_search(trials=1, out=tmp_path / "s", **options, **TINY)
    assert message in str(info.value) and "\n" not in str(info.value)
    assert not (tmp_path / "s").exists()


def test_without_dask_installed_the_error_gives_the_install_line(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "distributed", None)  # `import distributed` fails
    with pytest.raises(
        NnscratchError, match=r"distributed scheduler: pip install 'nnscratch\[cluster\]'$"
    ):
        random_search(trials=1, backend="dask", scheduler="127.0.0.1:8786", **TINY)


def test_an_unreachable_scheduler_is_one_line_with_its_address_in_bounded_time(
    monkeypatch, tmp_path
):
    pytest.importorskip("distributed")
    monkeypatch.setattr(search, "SCHEDULER_TIMEOUT", 2)
    address = f"127.0.0.1:{free_port()}"
    start = time.monotonic()
    with pytest.raises(NnscratchError) as info:
        random_search(trials=1, backend="dask", scheduler=address, out=tmp_path / "s", **TINY)
    assert time.monotonic() - start < 15  # 2 s, and the time to give up
    assert str(info.value) == (
        f"no Dask scheduler answered at tcp://{address} within 2 s: start one (dask scheduler) "
        "or check --scheduler"
    )
    assert not (tmp_path / "s").exists()  # nothing written before the cluster answered


# --- on a cluster ------------------------------------------------------------------------------
@pytest.mark.slow
def test_a_dask_search_interrupted_and_resumed_gives_the_trials_of_one_process(cluster, tmp_path):
    out = tmp_path / "s"
    options = {"trials": 8, "seed": 3, "backend": "dask", "scheduler": cluster.scheduler_address}
    ended = []

    def interrupt(record):  # Ctrl-C as the third trial is saved; the running ones are cancelled
        ended.append(record["index"])
        if len(ended) == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        random_search(out=out, on_trial=interrupt, **options, **TINY)
    kept = sorted(int(p.stem) for p in (out / "trials").glob("*.json"))
    assert kept == sorted(ended)  # exactly the three saved
    assert any("run_trial" in name for name in cluster.scheduler.task_prefixes)  # ran there
    log_before = (out / "trials.log").read_text().splitlines()

    resumed = random_search(out=out, **options, **TINY)
    log = (out / "trials.log").read_text().splitlines()
    queued = {int(line.split()[1]) for line in log[len(log_before) :] if line.startswith("queued")}
    assert queued == set(range(8)) - set(kept)  # none of the kept ones ran again
    done = sorted(int(line.split()[1]) for line in log if line.startswith("done"))
    assert done == list(range(8))  # each trial finished exactly once
    local = random_search(trials=8, seed=3, n_jobs=1, **TINY)
    assert without_seconds(resumed) == without_seconds(local)
    assert len({t["params"]["lr"] for t in local}) == 8  # eight different trials, not one


@pytest.mark.slow
def test_a_halving_search_on_dask_is_the_one_of_one_process(cluster):
    options = {"trials": 9, "epochs": 3, "hidden": (20,), "seed": 2, "halving": True}
    on_dask = random_search(backend="dask", scheduler=cluster.scheduler_address, **options)
    assert any("run_rung" in name for name in cluster.scheduler.task_prefixes)
    assert without_seconds(on_dask) == without_seconds(random_search(**options))
    assert sorted(t["epochs"] for t in on_dask) == [1] * 6 + [3] * 3  # rungs of 1 and 3 epochs
