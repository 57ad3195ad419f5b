"""The playground's settings, sessions and session store, without a server."""

import io as bytes_io
import json

import numpy as np
import pytest

from nnscratch.errors import NnscratchError
from nnscratch.io import load_model
from nnscratch.playground import session as session_module
from nnscratch.playground import settings as S
from nnscratch.playground import views
from nnscratch.playground.session import MAX_ITERATIONS, RequestError, Session
from nnscratch.playground.store import SessionStore
from nnscratch.run.options import OPTIONS

ROWS = {row["name"]: row for row in S.table()}
NUMERIC = [row for row in ROWS.values() if row["kind"] in ("int", "float")]
CHOICES = [row for row in ROWS.values() if row["kind"] == "choice"]
SMALL = {"n_samples": 120, "hidden": "8"}


def test_the_settings_are_the_tables_options_but_the_fixed_ones():
    assert list(S.SETTINGS) == [name for name in OPTIONS if name not in S.FIXED]
    for name, row in ROWS.items():
        option = OPTIONS[name]
        assert (row["help"], row["help_zh"], row["group"]) == (
            option.help,
            option.help_zh,
            option.group,
        )


def test_the_defaults_validate_to_themselves():
    checked = S.validate({})
    for name, row in ROWS.items():
        expected = None if name == "schedule_epochs" else row["default"]  # no schedule: none
        assert checked[name] == expected, name


@pytest.mark.parametrize("row", NUMERIC, ids=lambda r: r["name"])
def test_every_number_is_checked_against_its_range(row):
    name = row["name"]
    context = {"lr_schedule": "cosine"} if name == "schedule_epochs" else {}
    if name in ("momentum",):
        context["optimizer"] = "momentum"
    if name in ("beta1", "eps"):
        context["optimizer"] = "adam"
    if name == "decay_rate":
        context["optimizer"] = "rmsprop"
    if name == "decay":
        context["optimizer"] = "adamw"
    if name == "warmup":
        context["lr_schedule"] = "warmup-cosine"
    step = 1 if row["kind"] == "int" else 1e-3
    bad = ["many", True]
    if row["low"] is not None:
        bad.append(row["low"] - step)
    if row["high"] is not None:
        bad.append(row["high"] + step)
    for value in bad:
        with pytest.raises(NnscratchError, match=name):
            S.validate({**context, name: value})
    for value in (row["low"], row["high"]):
        if value is not None and OPTIONS[name].interval.contains(value):
            assert S.validate({**context, name: value})[name] == value


@pytest.mark.parametrize("row", CHOICES, ids=lambda r: r["name"])
def test_every_choice_is_checked(row):
    with pytest.raises(NnscratchError, match=row["name"]):
        S.validate({row["name"]: "no-such-choice"})
    for choice in row["choices"]:
        assert S.validate({row["name"]: choice})[row["name"]] == choice


@pytest.mark.parametrize("hidden", ["", "0", "8,a", "1,2,3,4,5,6,7", "65", "8,,8", True])
def test_hidden_sizes_are_bounded(hidden):
    with pytest.raises(NnscratchError, match="hidden") as bad:
        S.validate({"hidden": hidden})
    assert "--hidden" not in str(bad.value)  # the page has a field, not a command-line flag


def test_a_bad_value_gets_the_tables_message_and_the_playgrounds_bounds_their_own():
    with pytest.raises(NnscratchError) as table:
        S.validate({"batch_size": "0"})
    with pytest.raises(NnscratchError) as command_line:
        OPTIONS["batch_size"].parse("0")
    assert str(table.value) == str(command_line.value)
    for name, value, bounds in [
        ("batch_size", 513, "an integer from 1 to 512"),
        ("lr", 20.0, "a number in [1e-06, 10]"),
        ("dataset", "mnist", "one of moons, circles, spiral, xor, gaussians, digits"),
        ("weight_init", 0.01, "one of he, xavier"),
        ("hidden", "8,100", "at most 6 layers of at most 64 units"),
    ]:
        with pytest.raises(NnscratchError) as bounded:
            S.validate({name: value})
        shown = "8,100" if name == "hidden" else value
        assert str(bounded.value) == f"{name} must be {bounds} in the playground, got {shown!r}"


@pytest.mark.parametrize("empty", [None, "", "none"])
def test_an_empty_setting_takes_the_presets_value(empty):
    """An empty schedule length would be the playground's one-epoch run: it is the preset's."""
    checked = S.validate({"lr_schedule": "step", "schedule_epochs": empty, "seed": None})
    assert (checked["schedule_epochs"], checked["seed"]) == (
        S.PRESET["schedule_epochs"],
        S.PRESET["seed"],
    )
    assert S.validate({"lr_schedule": "step", "schedule_epochs": "7"})["schedule_epochs"] == 7


def test_booleans_unknown_settings_and_query_string_text():
    with pytest.raises(NnscratchError, match="batchnorm"):
        S.validate({"batchnorm": "perhaps"})
    with pytest.raises(NnscratchError, match="unknown setting colour"):
        S.validate({"colour": "red"})
    checked = S.validate({"n_samples": "100", "lr": "0.1", "batchnorm": "true", "noise": ""})
    assert (checked["n_samples"], checked["lr"], checked["batchnorm"], checked["noise"]) == (
        100,
        0.1,
        True,
        None,
    )
    # what the chosen set or optimizer does not take is none: moons has no number of classes
    assert S.validate({"dataset": "moons", "classes": 5})["classes"] is None
    assert S.validate({"optimizer": "sgd", "momentum": "0.5"})["momentum"] is None
    assert S.validate({"optimizer": "momentum", "momentum": "0.5"})["momentum"] == 0.5


def test_the_table_is_json_for_the_page():
    rows = json.loads(json.dumps(S.table()))
    assert [row["name"] for row in rows] == list(S.SETTINGS)


def test_reset_with_a_seed_reproduces_the_run_and_another_seed_does_not():
    a, b = Session(SMALL), Session(SMALL)
    a.step(25)
    b.step(25)
    first = {k: v.copy() for k, v in a.net.params.items()}
    assert all(np.array_equal(first[k], b.net.params[k]) for k in first)
    a.reset(SMALL)
    assert a.trainer.iteration == 0 and a.trainer.history["train_loss"] == []
    a.step(25)
    assert all(np.array_equal(first[k], a.net.params[k]) for k in first)
    c = Session({**SMALL, "seed": 1})
    c.step(25)
    assert not np.array_equal(first["W1"], c.net.params["W1"])


def test_the_boundary_is_the_networks_argmax_on_the_grid():
    session = Session(SMALL)
    session.step(30)
    boundary, g = session.grid.boundary(session.net), session.grid.extent()
    n = g["cells"]
    # cell centres: the odd points of a 2n-interval subdivision (y from the top)
    xs = np.linspace(g["x_min"], g["x_max"], 2 * n + 1)[1::2]
    ys = np.linspace(g["y_max"], g["y_min"], 2 * n + 1)[1::2]
    probabilities = session.net.predict(np.array([[x, y] for y in ys for x in xs]))
    assert boundary["classes"] == probabilities.argmax(axis=1).tolist()
    assert np.allclose(boundary["confidence"], probabilities.max(axis=1), atol=1e-3)
    assert len(set(boundary["classes"])) > 1


def test_the_network_view_is_every_layers_activations_and_weights():
    session = Session({**SMALL, "hidden": "5,4"})
    session.step(10)
    p = session.net.params
    x = session.grid.centres(views.UNIT_CELLS)
    h1 = np.tanh(x @ p["W1"] + p["b1"])  # tanh: the preset's activation
    h2 = np.tanh(h1 @ p["W2"] + p["b2"])
    network = session.grid.network(session.net)
    assert len(network["units"]) == 2
    assert np.allclose(network["units"][0], h1.T, atol=1e-3)
    assert np.allclose(network["units"][1], h2.T, atol=1e-3)
    k = session.data.n_classes
    assert [np.shape(w) for w in network["weights"]] == [(2, 5), (5, 4), (4, k)]
    assert np.allclose(network["weights"][2], p["W3"], atol=1e-3)


def test_digits_show_the_first_layers_weights_as_images():
    session = Session({"dataset": "digits", "hidden": "5"})
    state = session.state()
    assert "boundary" not in state and state["weights"]["shape"] == [8, 8]
    assert np.allclose(state["weights"]["images"], session.net.params["W1"].T, atol=1e-3)


def test_an_epoch_records_one_row_and_the_confusion_matrix_counts_the_test_set():
    session = Session(SMALL)
    session.epochs(1)
    t = session.trainer
    assert (t.epoch, t.iteration, t.epoch_position) == (1, t.iter_per_epoch, 0)
    h = t.history
    assert len(h["train_loss"]) == t.iter_per_epoch
    assert [len(h[k]) for k in ("train_acc", "test_acc", "test_loss", "epoch_loss")] == [1] * 4
    matrix = np.array(session.state()["confusion"])
    assert matrix.sum() == len(session.data.t_test)
    assert np.trace(matrix) / matrix.sum() == pytest.approx(h["test_acc"][0])


@pytest.mark.parametrize("iterations", [0, MAX_ITERATIONS + 1, "5", 2.0])
def test_steps_per_request_are_bounded(iterations):
    with pytest.raises(RequestError, match="iterations"):
        Session(SMALL).step(iterations)


def test_epochs_per_request_are_bounded_by_their_steps():
    """20 epochs of batch 1 would be 20 × 400 steps in one request: refused, nothing run."""
    session = Session({**SMALL, "n_samples": 500, "batch_size": 1})
    with pytest.raises(RequestError, match=r"20 epochs are 8000 steps .* at most 2000 a request"):
        session.epochs(20)
    assert session.trainer.iteration == 0
    session.epochs(5)  # 5 × 400 = 2000 steps: the bound itself is allowed
    assert session.trainer.epoch == 5


def test_a_session_learns_on_and_keeps_a_window_of_its_losses(monkeypatch):
    monkeypatch.setattr(session_module, "LOSS_WINDOW", 25)
    session = Session(SMALL)
    assert session.step(20) == 20
    assert session.step(30) == 30  # no hard stop: play goes on for a lesson
    losses = session.trainer.history["train_loss"]
    assert session.trainer.iteration == 50 and len(losses) == 25  # the last 25 steps'
    session.step(1)
    assert len(session.trainer.history["train_loss"]) == 25


def test_a_request_stops_when_its_time_is_up(monkeypatch):
    session = Session(SMALL)
    clock = [0.0]
    monkeypatch.setattr(session_module.time, "monotonic", lambda: clock[0])
    real_run = session.trainer.run

    def run(steps):  # every step takes 0.01 s of the fake clock
        clock[0] += 0.01 * steps
        return real_run(steps)

    monkeypatch.setattr(session.trainer, "run", run)
    done = session.step(2000, seconds=0.1)
    assert done == session.trainer.iteration and 10 <= done < 20  # stopped past 0.1 s
    assert session.step(3, seconds=0.0) == 1  # at least one step, whatever the time


def test_the_curves_sent_are_at_most_so_many_epochs_the_last_always_among_them():
    n = 1234
    history = {
        key: list(np.arange(n) * scale)
        for key, scale in (
            ("epoch_loss", 1.0),
            ("test_loss", 2.0),
            ("train_acc", 1e-4),
            ("test_acc", 2e-4),
        )
    }
    sent = session_module.curves(history, points=100)
    epochs = np.array(sent["epoch"])
    assert len(epochs) == 100 and epochs[0] == 1 and epochs[-1] == n
    assert np.all(np.diff(epochs) >= 12) and np.all(np.diff(epochs) <= 13)  # evenly spaced
    assert sent["test_loss"] == pytest.approx(
        list(2.0 * (epochs - 1))
    )  # the values of those epochs
    few = session_module.curves({k: v[:7] for k, v in history.items()}, points=100)
    assert few["epoch"] == [1, 2, 3, 4, 5, 6, 7] and few["train_acc"] == pytest.approx(
        list(np.arange(7) * 1e-4)
    )


@pytest.mark.parametrize("extra", [{}, {"batchnorm": True}, {"dropout": 0.3}])
def test_the_gradient_check_passes_and_leaves_the_network_as_it_was(extra):
    session = Session({**SMALL, **extra})
    session.step(3)
    buffers = {k: v.copy() for k, v in session.net.buffers.items()}
    result = session.gradient_check()
    assert set(result["errors"]) == set(session.net.params)
    assert max(result["errors"].values()) < 1e-6
    assert session.net.training
    assert all(np.array_equal(buffers[k], session.net.buffers[k]) for k in buffers)


def test_the_model_download_is_the_library_model_file(tmp_path):
    session = Session(SMALL)
    session.step(5)
    path = tmp_path / "model.npz"
    path.write_bytes(views.model_bytes(session.net, session.config()))
    net = load_model(path)
    x = session.data.x_test
    assert np.array_equal(net.predict(x), session.net.predict(x))
    history = json.load(
        bytes_io.BytesIO(views.history_bytes(session.trainer.history, session.config()))
    )
    assert len(history["train_loss"]) == 5 and history["config"]["playground"]["hidden"] == "8"


def test_plot_boundary_draws_a_downloaded_model_on_the_data_it_learned(tmp_path):
    """4 arms, 300 points, noise and seed of the page's own: the figure's data is drawn again
    exactly (spiral's defaults would be 3 classes, another seed)."""
    from nnscratch.cli.plot import boundary_model

    settings = {
        "dataset": "spiral",
        "classes": 4,
        "n_samples": 300,
        "noise": 0.1,
        "seed": 5,
        "hidden": "8",
    }
    session = Session(settings)
    session.step(3)
    path = tmp_path / "model.npz"
    path.write_bytes(views.model_bytes(session.net, session.config()))
    net, data = boundary_model(model=path)
    assert data.n_classes == 4
    assert np.array_equal(data.x_train, session.data.x_train)
    assert np.array_equal(data.t_test, session.data.t_test)
    assert np.array_equal(net.predict(data.x_test), session.net.predict(data.x_test))


def test_a_full_store_gives_the_least_recently_used_place_to_a_new_tab():
    now = [0.0]
    store = SessionStore(max_sessions=2, clock=lambda: now[0])
    first, _ = store.create(SMALL)
    now[0] = 1.0
    second, _ = store.create(SMALL)
    now[0] = 2.0
    store.get(first)  # the first tab is still playing; the second was closed without a beacon
    now[0] = 3.0
    third, _ = store.create(SMALL)
    assert set(store.sessions) == {first, third}
    with pytest.raises(RequestError) as gone:
        store.get(second)
    assert gone.value.status == 404  # its page, if it comes back, starts a new session
    assert store.close(first) and not store.close(first)
    store.create(SMALL)  # the freed place is taken again


def test_a_store_of_computing_sessions_refuses_a_new_one():
    store = SessionStore(max_sessions=2)
    busy = [store.create(SMALL)[1] for _ in range(2)]
    for s in busy:
        s.lock.acquire()
    try:
        with pytest.raises(RequestError, match="2 sessions computing") as refused:
            store.create(SMALL)
        assert refused.value.status == 503
    finally:
        for s in busy:
            s.lock.release()


def test_a_bad_setting_does_not_take_a_place():
    store = SessionStore(max_sessions=1)
    with pytest.raises(NnscratchError):
        store.create({"lr": -1})
    store.create(SMALL)


def test_idle_sessions_expire():
    now = [0.0]
    store = SessionStore(max_sessions=1, idle_seconds=60, clock=lambda: now[0])
    key, _ = store.create(SMALL)
    now[0] = 59.0
    store.get(key)  # a request keeps it alive
    now[0] = 118.0
    assert store.get(key)
    now[0] = 179.0
    with pytest.raises(RequestError) as gone:
        store.get(key)
    assert gone.value.status == 404
    store.create(SMALL)  # its place is free


def test_the_page_strings_have_the_same_keys_and_fields_in_each_language():
    import string

    from nnscratch.playground.strings import PAGE_STRINGS

    english = PAGE_STRINGS["en"]
    for lang, table in PAGE_STRINGS.items():
        assert set(table) == set(english), lang
        for key, text in table.items():
            fields = {f for _, f, _, _ in string.Formatter().parse(text) if f}
            assert fields == {f for _, f, _, _ in string.Formatter().parse(english[key]) if f}
    assert set(PAGE_STRINGS) == {"en", "zh-CN"}  # the library's figure languages


def test_a_drawn_digit_gets_the_probabilities_predict_gives_the_prepared_image():
    from nnscratch.images import prepare_image

    session = Session({"dataset": "digits", "hidden": "12"})
    session.step(30)
    paper = np.full((96, 96), 255)
    paper[20:76, 44:52] = 0  # a "1", dark on white
    answer = session.classify_drawing(paper.tolist())
    x = prepare_image(paper / 255, "digits")
    np.testing.assert_allclose(answer["prepared"], x, atol=1e-3)
    np.testing.assert_allclose(answer["probabilities"], session.net.predict(x[None])[0], atol=1e-6)
    for bad, message in [
        ([[255] * 96] * 96, "nothing is drawn"),
        ([[0, 1]] * 2, "8 to 256 rows"),
        ([[300] * 8] * 8, "gray levels"),
        ("pixels", "8 to 256 rows"),
    ]:
        with pytest.raises(RequestError, match=message):
            session.classify_drawing(bad)
    with pytest.raises(RequestError, match="digits dataset"):
        Session(SMALL).classify_drawing(paper.tolist())


def test_the_setup_says_which_settings_the_run_takes():
    digits = Session({"dataset": "digits", "hidden": "5", "optimizer": "adam"}).setup()["applies"]
    assert digits["beta1"] and not digits["momentum"]  # Adam's own, not Momentum's
    assert not digits["noise"] and not digits["n_samples"] and digits["test_size"]
    moons = Session({**SMALL, "dataset": "moons", "optimizer": "momentum"}).setup()["applies"]
    assert moons["momentum"] and not moons["beta1"] and moons["noise"] and not moons["classes"]
