"""`nnscratch search --backend dask --scheduler ADDRESS` and `--halving`: the one-line errors of
options that do not go together (no folder left behind), and whole runs: a halving search printed
and saved, and the same search on a local Dask cluster of two worker processes."""

import json
import re
import socket
import sys

import pytest

from nnscratch.cli import main
from nnscratch.experiments import search
from nnscratch.experiments.search import random_search
from nnscratch.experiments.space import DEFAULT_SPACE
from tests.helpers import one_line_error

#: a small halving search: 9 trials of at most 9 epochs, one hidden layer of 20
HALVING = ["--trials", "9", "--epochs", "9", "--hidden", "20", "--lr", "1e-3:1e-1", "--halving"]


def without_seconds(trials):
    return [{k: v for k, v in t.items() if k != "seconds"} for t in trials]


@pytest.mark.parametrize(
    "args, message",
    [
        (["--backend", "dask"], "--backend dask needs the address of its scheduler"),
        (["--scheduler", "127.0.0.1:8786"], "address of a Dask scheduler: add --backend dask"),
        (["--backend", "dask", "--scheduler", "8786"], "as tcp://HOST:PORT or HOST:PORT"),
        (["--backend", "dask", "--scheduler", "h:1", "--n-jobs", "2"], "leave out --n-jobs"),
        (["--eta", "2"], "--eta is successive halving's reduction factor: add --halving"),
        (["--halving", "--eta", "1"], "eta must be an integer ≥ 2 (the default is 3), got 1"),
    ],
)
def test_options_that_do_not_go_together_are_one_line(capsys, tmp_path, args, message):
    out = tmp_path / "never"
    assert main(["search", "--trials", "1", "--out", str(out), *args]) == 2
    assert message in one_line_error(capsys)
    assert not out.exists()


def test_backend_choices_are_loky_and_dask(capsys):
    with pytest.raises(SystemExit):
        main(["search", "--backend", "ray"])
    err = capsys.readouterr().err
    assert "--backend: invalid choice: 'ray'" in err and "loky" in err and "dask" in err


def test_without_dask_the_error_says_what_to_install(capsys, monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "distributed", None)
    out = tmp_path / "s"
    argv = ["search", "--backend", "dask", "--scheduler", "127.0.0.1:8786", "--out", str(out)]
    assert main(argv) == 2
    assert "pip install 'nnscratch[cluster]'" in one_line_error(capsys)
    assert not out.exists()


def test_an_unreachable_scheduler_is_one_line_naming_it(capsys, monkeypatch, tmp_path):
    pytest.importorskip("distributed")
    monkeypatch.setattr(search, "SCHEDULER_TIMEOUT", 2)
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    out = tmp_path / "s"
    argv = ["search", "--backend", "dask", "--scheduler", f"127.0.0.1:{port}", "--out", str(out)]
    assert main(argv) == 2
    assert f"no Dask scheduler answered at tcp://127.0.0.1:{port} within 2 s" in one_line_error(
        capsys
    )
    assert not out.exists()


@pytest.mark.slow
def test_a_halving_search_prints_its_rungs_and_saves_them(capsys, tmp_path):
    out = tmp_path / "s"
    assert main(["search", *HALVING, "--out", str(out), "--top", "3"]) == 0
    text = capsys.readouterr().out
    # 9 trials × 1 epoch, 3 of them 2 more, 1 of them 6 more: 9 + 6 + 6
    assert (
        "successive halving (eta 3): rungs of 1, 3, 9 epochs for 9, 3, 1 trials; at most 21 "
        "epochs in all, against 81 without halving"
    ) in text
    assert "21 epochs trained in all (without halving: 81)" in text
    assert "(rung 2, 9 epochs, " in text and "(rung 0, 1 epoch, " in text
    results = json.loads((out / "results.json").read_text())
    assert results["settings"]["halving"] == {"eta": 3, "rungs": [[1, 9], [3, 3], [9, 1]]}
    assert results["trials"][results["ranking"][0]]["rung"] == 2  # the one trained to the end
    assert not list((out / "trials").glob("*.npz"))  # checkpoints go once no rung needs them
    # the same command again: nothing to run, the same results
    assert main(["search", *HALVING, "--out", str(out), "--top", "3"]) == 0
    assert not re.search(r"^trial \d+:", capsys.readouterr().out, re.M)
    assert json.loads((out / "results.json").read_text())["trials"] == results["trials"]


@pytest.mark.slow
def test_a_search_on_a_dask_cluster_gives_the_trials_of_one_process(capsys, tmp_path):
    distributed = pytest.importorskip("distributed")
    out = tmp_path / "s"
    with distributed.LocalCluster(
        n_workers=2, processes=True, threads_per_worker=1, host="127.0.0.1", dashboard_address=None
    ) as cluster:
        address = cluster.scheduler_address.removeprefix("tcp://")  # HOST:PORT works too
        argv = ["search", *HALVING, "--backend", "dask", "--scheduler", address, "--out", str(out)]
        assert main(argv) == 0
        assert any("run_rung" in name for name in cluster.scheduler.task_prefixes)
    assert "21 epochs trained in all" in capsys.readouterr().out
    on_dask = json.loads((out / "results.json").read_text())["trials"]
    space = {"lr": "1e-3:1e-1", "weight_decay": DEFAULT_SPACE["weight_decay"]}  # the command's
    local = random_search(trials=9, epochs=9, hidden=(20,), space=space, halving=True, n_jobs=1)
    assert without_seconds(on_dask) == without_seconds(local)
