"""Animations: the asked number of frames, frames that change as learning goes, GIFs that Pillow
opens, written atomically."""

import numpy as np
import pytest
from matplotlib.animation import FuncAnimation
from matplotlib.figure import Figure
from PIL import Image
from sklearn.datasets import load_digits, make_moons

from nnscratch.errors import NnscratchError
from nnscratch.nets import MultiLayerNet, TwoLayerNet
from nnscratch.optim import SGD, Adam
from nnscratch.plots import animations, save_animation
from nnscratch.plots.animations_save import animation_writer
from nnscratch.plots.boundary import class_grid, grid_axes
from nnscratch.plots.frames import MAX_FRAMES
from nnscratch.run.trainer import Trainer

MB = 1_000_000


@pytest.fixture(scope="module")
def moons():
    return make_moons(120, noise=0.1, random_state=0)


def _net(seed=0):
    return MultiLayerNet(2, [8], 2, activation="tanh", weight_init="xavier", seed=seed)


def _gif_frames(path):
    """The frames of a GIF as RGB arrays (Pillow merges identical consecutive frames, so
    distinct frames are what is counted)."""
    with Image.open(path) as im:
        assert im.format == "GIF"
        frames = []
        for i in range(im.n_frames):
            im.seek(i)
            frames.append(np.asarray(im.convert("RGB"), dtype=int))
    return frames


def _frames_of(anim):
    return len(list(anim.new_saved_frame_seq()))


def test_record_boundary_snapshots_every_k_iterations_and_learns(moons):
    x, t = moons
    net = _net()
    g0, g1 = grid_axes(x, resolution=30)
    trainer = Trainer(net, x, t, batch_size=16, optimizer=Adam(0.05), seed=0)
    shots = animations.record_boundary(trainer, g0, g1, frames=5, every=15)
    assert [s[0] for s in shots] == [0, 15, 30, 45, 60]
    first_loss, last_loss = shots[0][1], shots[-1][1]
    assert last_loss < 0.7 * first_loss
    # the last snapshot is the trained net's own grid; the first differs from it
    np.testing.assert_array_equal(shots[-1][2][0], class_grid(net, g0, g1)[0])
    assert np.mean(shots[0][2][0] != shots[-1][2][0]) > 0.05


@pytest.mark.slow
def test_boundary_gif_has_the_frames_asked_each_different(moons, tmp_path):
    x, t = moons
    trainer = Trainer(
        _net(), x[:90], t[:90], x[90:], t[90:], batch_size=16, optimizer=Adam(0.05), seed=0
    )
    anim = animations.boundary(trainer, frames=5, every=10, resolution=30)
    assert isinstance(anim, FuncAnimation) and _frames_of(anim) == 5
    path = tmp_path / "boundary.gif"
    size = save_animation(anim, path, fps=5)
    assert size == path.stat().st_size < 5 * MB
    frames = _gif_frames(path)
    assert len(frames) == 5
    assert all(np.any(a != b) for a, b in zip(frames, frames[1:]))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["boundary.gif"]  # no temp left


def _blue_pixels(frame):
    """Pixels near matplotlib's C0 (31, 119, 180): the descent paths' colour."""
    return int(np.sum(np.all(np.abs(frame - [31, 119, 180]) < 40, axis=-1)))


@pytest.mark.slow
def test_descent_paths_grow_step_by_step(tmp_path):
    anim = animations.descent(rates=((0.1, "good"), (0.9, "zigzags")), frames=6)
    assert _frames_of(anim) == 6
    path = tmp_path / "descent.gif"
    save_animation(anim, path)
    frames = _gif_frames(path)
    assert len(frames) == 6
    blue = [_blue_pixels(f) for f in frames]
    assert blue[0] < blue[2] < blue[5], blue


def test_record_weights_copies_w1_as_it_changes():
    x, t = load_digits(return_X_y=True)
    x = x[:200] / 16.0
    net = TwoLayerNet(64, 6, 10, seed=0)
    trainer = Trainer(net, x, t[:200], batch_size=32, optimizer=SGD(0.5), seed=0)
    shots = animations.record_weights(trainer, frames=4, every=5)
    assert [s[0] for s in shots] == [0, 5, 10, 15]
    assert all(s[2].shape == (64, 6) for s in shots)
    assert all(np.any(a[2] != b[2]) for a, b in zip(shots, shots[1:]))
    np.testing.assert_array_equal(shots[-1][2], net.params["W1"])
    assert shots[-1][2] is not net.params["W1"]  # a copy, not the live array


@pytest.mark.slow
def test_weights_gif(tmp_path):
    x, t = load_digits(return_X_y=True)
    net = TwoLayerNet(64, 6, 10, seed=0)
    trainer = Trainer(net, x[:200] / 16.0, t[:200], batch_size=32, optimizer=SGD(0.5), seed=0)
    anim = animations.weights(trainer, frames=4, every=5, max_units=6, cols=3)
    path = tmp_path / "weights.gif"
    save_animation(anim, path)
    assert len(_gif_frames(path)) == 4


HISTORY = {
    "train_loss": list(np.linspace(2.3, 0.3, 40)),
    "train_acc": [0.5, 0.7, 0.8, 0.9],
    "test_acc": [0.45, 0.65, 0.75, 0.85],
}


@pytest.mark.slow
def test_curves_gif_grows_with_the_history(tmp_path):
    anim = animations.curves(HISTORY, frames=5)
    path = tmp_path / "curves.gif"
    save_animation(anim, path)
    frames = _gif_frames(path)
    assert len(frames) == 5
    assert all(np.any(a != b) for a, b in zip(frames, frames[1:]))


def test_curves_of_an_empty_history_is_a_clear_error():
    with pytest.raises(NnscratchError, match="no iterations or no epochs"):
        animations.curves({"train_loss": [], "train_acc": [], "test_acc": []})


@pytest.mark.parametrize("frames", [0, 1, MAX_FRAMES + 1, 2.5, "ten"])
def test_frames_out_of_range_are_a_clear_error(frames):
    with pytest.raises(NnscratchError, match="frames"):
        animations.descent(frames=frames)


@pytest.mark.parametrize("name, message", [("a.png", ".gif or .mp4"), ("a", ".gif or .mp4")])
def test_unknown_suffix_is_a_clear_error(name, message, tmp_path):
    with pytest.raises(NnscratchError, match=message):
        animation_writer(tmp_path / name)


def test_mp4_without_ffmpeg_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setattr("shutil.which", lambda name: None)
    with pytest.raises(NnscratchError, match="ffmpeg"):
        animation_writer(tmp_path / "a.mp4")


@pytest.mark.parametrize("fps", [0, -1, 61, float("nan")])
def test_bad_fps_is_a_clear_error(fps, tmp_path):
    with pytest.raises(NnscratchError, match="fps"):
        animation_writer(tmp_path / "a.gif", fps)


def _failing_animation():
    fig = Figure(figsize=(2, 2), dpi=40)
    ax = fig.subplots()

    def update(i):
        if i == 2:
            raise RuntimeError("frame 2 failed")
        ax.set_title(str(i))

    return FuncAnimation(fig, update, frames=4, cache_frame_data=False)


def test_a_failed_save_leaves_no_file_and_no_temp(tmp_path):
    with pytest.raises(RuntimeError, match="frame 2"):
        save_animation(_failing_animation(), tmp_path / "a.gif")
    assert list(tmp_path.iterdir()) == []


def test_a_failed_save_keeps_the_old_file(tmp_path):
    path = tmp_path / "a.gif"
    path.write_bytes(b"old")
    with pytest.raises(RuntimeError):
        save_animation(_failing_animation(), path)
    assert path.read_bytes() == b"old" and list(tmp_path.iterdir()) == [path]


@pytest.mark.slow
def test_save_into_a_missing_folder_is_a_clear_error(tmp_path):
    anim = animations.descent(frames=2)
    with pytest.raises(NnscratchError, match="does not exist"):
        save_animation(anim, tmp_path / "nope" / "a.gif")
    save_animation(anim, tmp_path / "a.gif")  # the same animation, to a folder that exists
    assert [p.name for p in tmp_path.iterdir()] == ["a.gif"]
