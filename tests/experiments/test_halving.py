"""Successive halving in experiments.search: the rungs worked out by hand, who goes on, and a
search on digits that finds the full search's best trial in a quarter of its epochs, with every
continued trial the same as the full search's (continued from its checkpoint, not retrained),
whatever n_jobs, resumed after an interruption from the rung it was in."""

import json

import pytest

from nnscratch.errors import NnscratchError
from nnscratch.experiments.search import (
    best_trials,
    halving_epochs,
    halving_rungs,
    promote,
    random_search,
)
from nnscratch.run.trainer import Trainer

#: a space where the learning rate decides: 10^U(-4, -1) for 9 epochs, so that a trial with a
#: rate near 1e-4 stays at chance (a tenth) while the largest rate leads from the first epoch on
#: (on seeds 0-29 the halving search finds the full search's best on 29; seed 0 is one of them)
SEARCH = {"space": {"lr": "1e-4:1e-1"}, "trials": 27, "epochs": 9, "hidden": (50,), "seed": 0}
HISTORY = ("train_acc", "val_acc", "val_loss")


def without_seconds(trials):
    return [{k: v for k, v in t.items() if k != "seconds"} for t in trials]


# --- the plan ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "trials, epochs, eta, rungs",
    [
        # s = min(⌊log3 27⌋, ⌊log3 9⌋) = 2: 9/3² = 1, 9/3 = 3, 9 epochs; 27, 27/3, 27/9 trials
        (27, 9, 3, [(1, 27), (3, 9), (9, 3)]),
        # s = min(3, ⌊log3 20⌋ = 2) = 2: ⌊20/9⌋ = 2, ⌊20/3⌋ = 6, 20; 40, ⌊40/3⌋ = 13, ⌊40/9⌋ = 4
        (40, 20, 3, [(2, 40), (6, 13), (20, 4)]),
        (8, 8, 2, [(1, 8), (2, 4), (4, 2), (8, 1)]),  # s = 3: halving proper
        (2, 20, 3, [(20, 2)]),  # fewer trials than η: nothing to halve, one rung
        (81, 2, 3, [(2, 81)]),  # fewer epochs than η: likewise
    ],
)
def test_rungs_worked_out_by_hand(trials, epochs, eta, rungs):
    assert halving_rungs(trials, epochs, eta) == rungs


def test_epochs_in_all_count_each_continued_trial_once():
    # 27 trials × 1 epoch, then 9 trials × 2 more, then 3 × 6 more
    assert halving_epochs([(1, 27), (3, 9), (9, 3)]) == 27 + 18 + 18 == 63
    assert halving_epochs([(20, 2)]) == 40


@pytest.mark.parametrize("eta", [1, 0, 2.5, True, "3"])
def test_eta_must_be_an_integer_of_two_or_more(eta):
    with pytest.raises(NnscratchError, match="eta must be an integer ≥ 2"):
        halving_rungs(9, 9, eta)


def test_promote_ranks_by_accuracy_after_the_rungs_epochs_never_a_diverged_trial():
    records = [
        {"index": 0, "val_acc": [0.5, 0.9, 0.95]},  # continued already: its epoch-1 value counts
        {"index": 1, "val_acc": [0.7]},
        {"index": 2, "val_acc": [0.6]},
        {"index": 3, "val_acc": [0.7]},  # a tie with trial 1: the lower index goes on
        {"index": 4, "val_acc": []},  # diverged in its first epoch
    ]
    assert promote(records, 1, 2) == [1, 3]
    assert promote(records, 1, 4) == [0, 1, 2, 3]
    assert promote(records, 1, 5) == [0, 1, 2, 3]  # not the diverged one, even with room
    assert promote(records, 2, 1) == [0]


def test_best_trials_puts_the_last_rung_first():
    trials = [
        {"index": 0, "final_val_acc": 0.99, "rung": 0},  # high after 1 epoch, but cut later
        {"index": 1, "final_val_acc": 0.9, "rung": 2},
        {"index": 2, "final_val_acc": None, "rung": 2},  # diverged: last whatever its rung
        {"index": 3, "final_val_acc": 0.95, "rung": 2},
    ]
    assert [t["index"] for t in best_trials(trials, 4)] == [3, 1, 0, 2]


# --- a search ----------------------------------------------------------------------------------
def test_halving_finds_the_full_searchs_best_in_fewer_epochs_continuing_each_trial(monkeypatch):
    steps = []  # every learning step taken (n_jobs=1: here, in this process)
    step = Trainer.step
    monkeypatch.setattr(Trainer, "step", lambda self, batch: steps.append(1) or step(self, batch))
    full = random_search(**SEARCH)
    full_steps, steps[:] = len(steps), []
    halved = random_search(halving=True, **SEARCH)
    # continued from the checkpoints, not retrained: the steps of 63 epochs, not of 27 + 27 + 27
    assert len(steps) * 27 * 9 == full_steps * 63
    best = best_trials(full, 1)[0]
    assert best_trials(halved, 1)[0]["index"] == best["index"] == 9
    assert best["params"]["lr"] == max(f["params"]["lr"] for f in full)  # 0.09: 0.88 at the end
    assert best["final_val_acc"] > 0.85
    # 1, 3 and 9 epochs for 27, 9 and 3 trials, each continued: 27·1 + 9·2 + 3·6
    assert sum(t["epochs"] for t in halved) == 63 < 27 * 9
    assert [sum(t["rung"] == k for t in halved) for k in range(3)] == [18, 6, 3]
    for h, f in zip(halved, full):
        assert h["index"] == f["index"] and h["epochs"] == (1, 3, 9)[h["rung"]]
        assert (h["params"], h["seed"]) == (f["params"], f["seed"])
        for key in HISTORY:  # the same trial, stopped sooner: bit for bit
            assert h[key] == f[key][: h["epochs"]]
    # who went on: the best 9 after one epoch, then the best 3 of those after three
    after_1 = sorted(full, key=lambda f: (-f["val_acc"][0], f["index"]))[:9]
    after_3 = sorted(after_1, key=lambda f: (-f["val_acc"][2], f["index"]))[:3]
    assert {t["index"] for t in halved if t["rung"] >= 1} == {f["index"] for f in after_1}
    assert {t["index"] for t in halved if t["rung"] == 2} == {f["index"] for f in after_3}
    # after one epoch every small rate is near chance (some go on by that noise); after three the
    # rate shows: the last rung's 3 trials are among the 5 of the largest rates
    fastest = sorted(full, key=lambda f: -f["params"]["lr"])[:5]
    assert {t["index"] for t in halved if t["rung"] == 2} < {f["index"] for f in fastest}


@pytest.mark.slow
def test_halving_does_not_depend_on_n_jobs():
    one = random_search(halving=True, n_jobs=1, **SEARCH)
    two = random_search(halving=True, n_jobs=2, **SEARCH)
    assert without_seconds(one) == without_seconds(two)


def test_an_interrupted_halving_search_goes_on_from_its_rung(tmp_path):
    out = tmp_path / "s"
    seen = []

    def interrupt(record):  # Ctrl-C as the second trial of rung 1 is saved
        seen.append(record)
        if record["rung"] == 1 and sum(r["rung"] == 1 for r in seen) == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        random_search(halving=True, out=out, on_trial=interrupt, **SEARCH)
    saved = {int(p.stem): json.loads(p.read_text()) for p in (out / "trials").glob("*.json")}
    assert len(saved) == 27 and sorted(r["rung"] for r in saved.values()).count(1) == 2
    # the checkpoints of the 9 going on are kept, those of the 18 cut deleted
    kept = sorted(int(p.stem) for p in (out / "trials").glob("*.npz"))
    assert len(kept) == 9 and all(saved[i]["epochs"] in (1, 3) for i in kept)
    # one damaged checkpoint: that trial is trained again from its start, to the same numbers
    damaged = next(i for i in kept if saved[i]["rung"] == 0)
    (out / "trials" / f"{damaged:04d}.npz").write_bytes(b"not a checkpoint")

    resumed = random_search(halving=True, out=out, **SEARCH)
    assert without_seconds(resumed) == without_seconds(random_search(halving=True, **SEARCH))
    assert not list((out / "trials").glob("*.npz"))  # none is needed any more
    log = (out / "trials.log").read_text().splitlines()
    done = [tuple(map(int, line.split()[1::2])) for line in log if line.startswith("done")]
    assert len(done) == len(set(done)) == 27 + 9 + 3  # each rung of each trial done once
    assert sorted(k for _, k in done) == [0] * 27 + [1] * 9 + [2] * 3


def test_a_halving_search_is_resumed_only_as_it_was_started(tmp_path):
    out = tmp_path / "s"
    tiny = {"epochs": 3, "hidden": (20,)}
    random_search(trials=3, halving=True, out=out, **tiny)
    with pytest.raises(NnscratchError, match="halving .*'trials': 3.* there, .*'trials': 4"):
        random_search(trials=4, halving=True, out=out, **tiny)
    with pytest.raises(NnscratchError, match="halving .* there, None here"):
        random_search(trials=3, out=out, **tiny)
    random_search(trials=3, out=tmp_path / "plain", **tiny)
    with pytest.raises(NnscratchError, match="halving None there"):
        random_search(trials=3, halving=True, out=tmp_path / "plain", **tiny)
