"""``nnscratch evaluate`` and ``nnscratch predict``, the metrics and the image preprocessing."""

import json
import re
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image
from sklearn import metrics as sk_metrics

from nnscratch import TwoLayerNet, load_dataset, train
from nnscratch.cli import main
from nnscratch.datasets.sources import FASHION_MNIST
from nnscratch.images import center_of_mass, ink, load_image, mnist_style, prepare_image
from nnscratch.io import save_model
from nnscratch.metrics import confusion_matrix, per_class_accuracy


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits")


@pytest.fixture(scope="module")
def model(digits, tmp_path_factory):
    """A TwoLayerNet trained on digits with cli/train.py's settings (well under a second)."""
    net = TwoLayerNet(64, 100, 10, seed=0)
    train(net, digits.x_train, digits.t_train, epochs=30, batch_size=32, lr=0.5, seed=0)
    path = save_model(
        tmp_path_factory.mktemp("model") / "digits.npz", net, config={"dataset": "digits"}
    )
    return net, path


def run(argv, capsys):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line_error(code, err, message):
    assert code == 2
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1, err
    assert re.search(message, err), err


def save_gray(path, gray):
    """Save a float image in [0, 1] (0 black) as 8-bit grayscale PNG/JPEG (by the extension)."""
    Image.fromarray(np.round(255 * np.clip(gray, 0, 1)).astype(np.uint8)).save(path)
    return path


def digit_picture(x8, scale=8, pad=20, dark_on_light=True):
    """A digits image (64,) upscaled ``scale``× (each pixel a block), with a margin: a picture of
    that digit as a user would draw it, dark ink on white paper by default."""
    ink_ = np.pad(np.kron(np.asarray(x8).reshape(8, 8), np.ones((scale, scale))), pad)
    return 1.0 - ink_ if dark_on_light else ink_


# ---------------------------------------------------------------------------- metrics


def test_confusion_matrix_matches_scikit_learn():
    rng = np.random.default_rng(0)
    t, y = rng.integers(0, 5, 200), rng.integers(0, 5, 200)
    np.testing.assert_array_equal(
        confusion_matrix(t, y, 5), sk_metrics.confusion_matrix(t, y, labels=range(5))
    )


def test_per_class_accuracy_by_hand():
    #            predicted 0  1  2     class 0: 2 of 3 right, class 1: 1 of 1, class 2: no samples
    matrix = np.array([[2, 1, 0], [0, 1, 0], [0, 0, 0]])
    acc = per_class_accuracy(matrix)
    np.testing.assert_allclose(acc[:2], [2 / 3, 1.0])
    assert np.isnan(acc[2])


# ---------------------------------------------------------------------------- evaluate


def parse_evaluate(out):
    accuracy = float(re.search(r"^accuracy (\d\.\d{4}) \((\d+)/(\d+)\)$", out, re.M).group(1))
    rows = re.findall(r"^\s+(\d)((?:\s+\d+){10})\s+(\d\.\d{4})$", out, re.M)
    matrix = np.array([[int(v) for v in r[1].split()] for r in rows])
    class_acc = np.array([float(r[2]) for r in rows])
    return accuracy, matrix, class_acc


def test_evaluate_prints_accuracy_per_class_accuracy_and_confusion_matrix(model, digits, capsys):
    net, path = model
    code, out, _ = run(["evaluate", path, "--dataset", "digits"], capsys)
    assert code == 0
    accuracy, matrix, class_acc = parse_evaluate(out)
    y = net.predict(digits.x_test).argmax(axis=1)
    assert accuracy == pytest.approx(net.accuracy(digits.x_test, digits.t_test), abs=5e-5)
    np.testing.assert_array_equal(matrix, sk_metrics.confusion_matrix(digits.t_test, y))
    np.testing.assert_allclose(
        class_acc, sk_metrics.recall_score(digits.t_test, y, average=None), atol=5e-5
    )
    assert (
        f"({matrix.trace()}/360)" in out
        and "on digits (test, 360 images from scikit-learn (bundled))" in out
    )


def test_evaluate_uses_the_dataset_the_model_was_trained_on_and_the_train_split(
    model, digits, capsys
):
    net, path = model
    code, out, _ = run(["evaluate", path, "--split", "train"], capsys)
    assert code == 0
    accuracy, matrix, _ = parse_evaluate(out)
    assert matrix.sum() == len(digits.x_train)
    assert accuracy == pytest.approx(net.accuracy(digits.x_train, digits.t_train), abs=5e-5)


@pytest.mark.parametrize("seeds", [["--seed", "5"], ["--seed", "5", "--data-seed", "7"]])
def test_evaluate_draws_a_2d_runs_own_points_again(tmp_path, capsys, seeds):
    """A run on 300 moons points (its seed, or its data seed, draws them) is evaluated on its own
    60 test points: the accuracy train reported, not one on the default 500 points' split."""
    argv = ["train", "--quiet", "--dataset", "moons", "--n-samples", "300", "--epochs", "2"]
    assert main([*argv, *seeds, "--out", str(tmp_path)]) == 0
    reported = json.loads((tmp_path / "history.json").read_text())["test_acc"][-1]
    capsys.readouterr()
    code, out, _ = run(["evaluate", tmp_path / "model.npz"], capsys)
    assert code == 0 and "moons (test, 60 points generated by nnscratch.datasets.toy2d)" in out
    assert parse_evaluate(out)[0] == pytest.approx(reported, abs=5e-5)
    # another dataset named on the command line is drawn with its own defaults
    code, out, _ = run(["evaluate", tmp_path / "model.npz", "--dataset", "circles"], capsys)
    assert code == 0 and "circles (test, 100 points generated by" in out


def test_evaluate_without_a_dataset_anywhere(tmp_path, capsys):
    path = save_model(tmp_path / "m.npz", TwoLayerNet(64, 5, 10))
    code, _, err = run(["evaluate", path], capsys)
    assert_one_line_error(
        code,
        err,
        r"does not say which dataset it was trained on: give "
        r"--dataset",
    )


@pytest.mark.parametrize("config", [{"dataset": ["digits"]}, ["digits"]])
def test_evaluate_of_a_model_file_with_damaged_settings_is_one_line(tmp_path, capsys, config):
    path = save_model(tmp_path / "m.npz", TwoLayerNet(64, 5, 10), config=config)
    code, _, err = run(["evaluate", path], capsys)
    assert_one_line_error(
        code,
        err,
        r"m.npz: its training settings .* are damaged: give "
        r"--dataset",
    )
    assert run(["evaluate", path, "--dataset", "digits"], capsys)[0] == 0


def test_evaluate_model_of_another_input_size(tmp_path, capsys):
    path = save_model(tmp_path / "m.npz", TwoLayerNet(784, 5, 10))
    code, _, err = run(["evaluate", path, "--dataset", "digits"], capsys)
    assert_one_line_error(
        code,
        err,
        r"the test set of digits has 64 features per sample but the model "
        r"takes 784",
    )


def test_evaluate_model_with_fewer_classes_than_the_labels(tmp_path, capsys):
    path = save_model(tmp_path / "m.npz", TwoLayerNet(64, 5, 3))
    code, _, err = run(["evaluate", path, "--dataset", "digits"], capsys)
    assert_one_line_error(code, err, r"holds the label 9 but the model has 3 classes")


@pytest.mark.slow
def test_evaluate_bad_file_is_one_line_and_exit_2_from_the_real_command(tmp_path):
    bad = tmp_path / "weights.npz"
    bad.write_bytes(b"\x80\x04not a model")
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from nnscratch.cli import main; sys.exit(main())",
            "evaluate",
            str(bad),
            "--dataset",
            "digits",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert_one_line_error(
        proc.returncode,
        proc.stderr,
        r"^nnscratch: error: model file .*"
        r"weights.npz.* cannot be read",
    )
    assert proc.stdout == ""


# ---------------------------------------------------------------------------- preprocessing


def stroke_image(height=120, width=90, dark_on_light=True):
    """An off-centre 'L'-shaped stroke: ink 1 on 0 (or inverted), top-left of the frame."""
    x = np.zeros((height, width))
    x[10:70, 15:25] = 1.0  # vertical bar
    x[60:70, 15:50] = 1.0  # foot
    return 1.0 - x if dark_on_light else x


def test_mnist_style_is_28x28_in_range_centred_by_mass_in_a_20px_box():
    out = prepare_image(stroke_image(), "mnist").reshape(28, 28)
    assert out.shape == (28, 28)
    assert out.min() >= 0.0 and out.max() == pytest.approx(1.0, abs=0.02)
    cy, cx = center_of_mass(out)
    assert abs(cy - 13.5) <= 0.5 and abs(cx - 13.5) <= 0.5  # integer shifts: within half a pixel
    rows = np.flatnonzero(out.max(axis=1) > 0.05)
    cols = np.flatnonzero(out.max(axis=0) > 0.05)
    assert rows[-1] - rows[0] + 1 == 20  # the longest side (height) is 20
    # the stroke is 60 tall and 35 wide: the width keeps the aspect ratio, 35/60·20 ≈ 11.7
    assert 11 <= cols[-1] - cols[0] + 1 <= 13


def test_dark_on_light_and_light_on_dark_give_the_same_input():
    a = prepare_image(stroke_image(dark_on_light=True), "mnist")
    b = prepare_image(stroke_image(dark_on_light=False), "mnist")
    np.testing.assert_allclose(a, b, atol=1e-6)


def test_ink_stretches_a_grey_background_to_zero():
    gray = np.full((20, 20), 0.8)
    gray[5:15, 8:12] = 0.2  # dark grey pen on light grey paper
    x = ink(gray)
    assert x[0, 0] == 0.0 and x[10, 10] == pytest.approx(1.0)


def test_digits_style_reproduces_a_digits_image_from_its_upscaled_picture(digits):
    """Upscaling an 8×8 digit by blocks and preparing it again gives back the same 8×8 image
    whenever the digit fills the rows and its columns are centred (as optdigits made them)."""
    checked = 0
    for x8 in digits.x_test:
        im = x8.reshape(8, 8)
        cols = np.flatnonzero(im.max(axis=0) > 0)
        if not (
            cols[0] == 1
            and cols[-1] == 6
            and im.max() == 1.0
            and im[:, [1, 6]].max(axis=0).min() > 0.05
            and im[[0, 7]].max(axis=1).min() > 0.05
        ):
            continue
        np.testing.assert_allclose(prepare_image(digit_picture(x8), "digits"), x8, atol=1e-6)
        checked += 1
    assert checked >= 20


def test_mnist_style_keeps_a_digit_inside_the_frame():
    x = np.zeros((50, 50))
    x[0:50, 0:3] = 1.0  # a tall thin bar at the very edge
    out = mnist_style(x)
    assert out.shape == (28, 28) and out.sum() > 0


# ---------------------------------------------------------------------------- predict

LINE = re.compile(r"^(.+): (\d)  top-3: (\d) (\d\.\d{3}), (\d) (\d\.\d{3}), (\d) (\d\.\d{3})$")


@pytest.mark.parametrize("ext, dark_on_light", [("png", True), ("jpg", False)])
def test_predict_recognises_pictures_of_digits(model, digits, tmp_path, capsys, ext, dark_on_light):
    net, path = model
    n = 40
    images = [
        save_gray(
            tmp_path / f"{i}.{ext}", digit_picture(digits.x_test[i], dark_on_light=dark_on_light)
        )
        for i in range(n)
    ]
    code, out, err = run(["predict", path, *images], capsys)
    assert code == 0, err
    lines = out.splitlines()
    assert len(lines) == n
    predicted = []
    for image, line in zip(images, lines):
        m = LINE.match(line)
        assert m, line
        assert m.group(1) == str(image)
        probs = [float(m.group(k)) for k in (4, 6, 8)]
        assert probs == sorted(probs, reverse=True) and m.group(2) == m.group(3)
        expected = net.predict(prepare_image(load_image(image), "digits"))
        assert probs[0] == pytest.approx(expected.max(), abs=5e-4)
        predicted.append(int(m.group(2)))
    correct = np.sum(np.array(predicted) == digits.t_test[:n])
    on_original = np.sum(net.predict(digits.x_test[:n]).argmax(axis=1) == digits.t_test[:n])
    # the pictures lose a little (a half-pixel shift when a digit's width is odd); measured:
    # 36 (png) and 37 (jpg) of 40 right, against 39 for the original 8×8 images
    assert correct >= 34 and on_original >= 37


def test_predict_reads_a_transparent_png_as_ink_on_white(model, digits, tmp_path, capsys):
    net, path = model
    ink8 = np.pad(np.kron(digits.x_test[0].reshape(8, 8), np.ones((8, 8))), 20)
    rgba = np.zeros(ink8.shape + (4,), np.uint8)  # black strokes; transparent elsewhere
    rgba[..., 3] = np.round(255 * ink8).astype(np.uint8)
    Image.fromarray(rgba, "RGBA").save(tmp_path / "t.png")
    save_gray(tmp_path / "w.png", 1.0 - ink8)
    np.testing.assert_allclose(
        prepare_image(load_image(tmp_path / "t.png"), "digits"),
        prepare_image(load_image(tmp_path / "w.png"), "digits"),
        atol=0.01,
    )


def test_predict_errors_are_one_line(model, tmp_path, capsys):
    _, path = model
    (tmp_path / "notes.png").write_text("not an image")
    code, out, err = run(["predict", path, tmp_path / "notes.png"], capsys)
    assert_one_line_error(code, err, r"notes.png' cannot be read .*give a PNG or JPEG")
    assert out == ""
    save_gray(tmp_path / "blank.png", np.ones((30, 30)))
    code, _, err = run(["predict", path, tmp_path / "blank.png"], capsys)
    assert_one_line_error(code, err, r"no digit or article found")
    code, _, err = run(["predict", path, tmp_path / "missing.png"], capsys)
    assert_one_line_error(code, err, r"missing.png' does not exist")
    odd = save_model(tmp_path / "odd.npz", TwoLayerNet(10, 3, 2))
    save_gray(tmp_path / "d.png", stroke_image())
    code, _, err = run(["predict", odd, tmp_path / "d.png", "--like", "mnist"], capsys)
    assert_one_line_error(
        code,
        err,
        r"takes 10 inputs, but a picture prepared like mnist has "
        r"784: give the --like of the data it learned from",
    )
    code, _, err = run(["predict", path, tmp_path / "d.png", "--like", "fashion-mnist"], capsys)
    assert_one_line_error(
        code,
        err,
        r"takes 64 inputs, but a picture prepared like "
        r"fashion-mnist has 784",
    )
    strange = save_model(
        tmp_path / "strange.npz", TwoLayerNet(64, 3, 2), config={"dataset": "iris"}
    )
    code, _, err = run(["predict", strange, tmp_path / "d.png"], capsys)
    assert_one_line_error(
        code,
        err,
        r"strange.npz was trained on 'iris', whose pictures "
        r"predict does not know how to prepare: give --like mnist",
    )


# ---------------------------------------------------------------------------- predict: the recipe


def fashion_item():
    """An article as Fashion-MNIST holds it, (28, 12): bright on black, 28 rows tall (the longest
    side), intensities in 1/255 steps (8-bit) and every border row and column inked."""
    item = np.full((28, 12), 153 / 255)  # a grey dress...
    item[4:24, 3:9] = 1.0  # ...with a white panel
    item[10:12, :] = 51 / 255  # and a dark belt
    return item


def fashion_picture(item, scale=8, pad=40):
    """The article photographed as Zalando shoots them: dark on a white background, enlarged."""
    return 1.0 - np.pad(np.kron(item, np.ones((scale, scale))), pad)


def fashion_recipe(item):
    """Zalando's steps 4-6 on an article already trimmed and 28 px on its longest side, by an
    independent computation: sharpening (unsharp mask 2x - G*x, Gaussian σ = 1 of radius 1,
    edges repeated), the short side extended to 28 with the article centred."""
    from scipy.ndimage import gaussian_filter

    sharp = np.clip(2 * item - gaussian_filter(item, sigma=1.0, truncate=1.0, mode="nearest"), 0, 1)
    out = np.zeros((28, 28))
    left = (28 - item.shape[1]) // 2
    out[:, left : left + item.shape[1]] = sharp
    return out.reshape(-1)


@pytest.fixture(scope="module")
def fashion_model(tmp_path_factory):
    """784 inputs, weights large enough that a differently prepared picture changes the top-3."""
    folder = tmp_path_factory.mktemp("fashion")
    net = TwoLayerNet(784, 30, 10, weight_init_std=0.3, seed=1)
    return (
        net,
        save_model(folder / "fashion.npz", net, config={"dataset": "fashion-mnist"}),
        save_model(folder / "bare.npz", net),
    )


#: a predicted class as predict names it → its index: Fashion-MNIST's by name, digits' by index
CLASS_INDEX = {str(k): k for k in range(10)} | {c: k for k, c in enumerate(FASHION_MNIST.classes)}
NAMED_LINE = re.compile(
    r"^(.+): (.+)  top-3: (.+) (\d\.\d{3}), (.+) (\d\.\d{3}), (.+) (\d\.\d{3})$"
)


def parsed(line):
    """([class, class, class], [p, p, p]) of the top 3 of a predict line, each class checked to
    be one of the names and the first answer to be the top one."""
    m = NAMED_LINE.match(line)
    assert m and m.group(2) == m.group(3), line
    classes = [CLASS_INDEX[m.group(k)] for k in (3, 5, 7)]
    return classes, [float(m.group(k)) for k in (4, 6, 8)]


def expected_line(net, x):
    p = net.predict(x[None])[0]
    order = sorted(range(10), key=lambda k: -p[k])[:3]
    return order, [p[k] for k in order]


def test_predict_prepares_a_picture_like_the_dataset_the_model_learned(
    fashion_model, tmp_path, capsys
):
    net, path, _ = fashion_model
    image = save_gray(tmp_path / "dress.png", fashion_picture(fashion_item()))
    code, out, err = run(["predict", path, image], capsys)
    assert code == 0, err
    classes, probs = parsed(out.strip())
    want_classes, want_probs = expected_line(net, fashion_recipe(fashion_item()))
    # MNIST's recipe (20 px box, centre of mass) would give another answer: the test can tell
    mnist_x = mnist_style(ink(load_image(image))).reshape(-1)
    assert expected_line(net, mnist_x)[0] != want_classes
    assert classes == want_classes
    np.testing.assert_allclose(probs, want_probs, atol=5e-4)
    # by name: "dress.png: Dress  top-3: Dress 0.912, ..."
    assert out.startswith(f"{image}: {FASHION_MNIST.classes[want_classes[0]]}  top-3: ")


def test_predict_like_overrides_the_model_files_dataset(fashion_model, tmp_path, capsys):
    net, path, bare = fashion_model
    image = save_gray(tmp_path / "dress.png", fashion_picture(fashion_item()))
    _, by_file, _ = run(["predict", path, image], capsys)
    code, by_like, err = run(["predict", bare, image, "--like", "fashion-mnist"], capsys)
    assert code == 0, err
    assert by_like == by_file
    code, as_mnist, err = run(["predict", path, image, "--like", "mnist"], capsys)
    assert code == 0, err
    # prepared like MNIST's digits, answered in the classes the model learned
    assert as_mnist.split(": ")[1].split("  ")[0] in FASHION_MNIST.classes
    assert (
        parsed(as_mnist.strip())[0]
        == expected_line(net, mnist_style(ink(load_image(image))).reshape(-1))[0]
    )


def test_predict_of_a_model_file_without_its_dataset_says_how_to_choose(
    fashion_model, tmp_path, capsys
):
    _, _, bare = fashion_model
    image = save_gray(tmp_path / "dress.png", fashion_picture(fashion_item()))
    code, out, err = run(["predict", bare, image], capsys)
    assert_one_line_error(
        code,
        err,
        r"bare.npz does not say which dataset it was trained on, "
        r"and its 784 inputs fit mnist and fashion-mnist, prepared "
        r"differently: give --like mnist or --like fashion-mnist$",
    )
    assert out == ""


def test_predict_of_a_model_file_without_its_dataset_takes_the_one_recipe_that_fits(
    model, digits, tmp_path, capsys
):
    net, _ = model
    bare = save_model(tmp_path / "bare.npz", net)  # 64 inputs: only digits' pictures have 64
    image = save_gray(tmp_path / "d.png", digit_picture(digits.x_test[0]))
    code, out, err = run(["predict", bare, image], capsys)
    assert code == 0, err
    assert run(["predict", bare, image, "--like", "digits"], capsys)[1] == out
    assert (
        parsed(out.strip())[0] == expected_line(net, prepare_image(load_image(image), "digits"))[0]
    )


def test_predict_of_a_model_no_recipe_fits_says_so(tmp_path, capsys):
    odd = save_model(tmp_path / "odd.npz", TwoLayerNet(10, 3, 2))
    save_gray(tmp_path / "d.png", stroke_image())
    code, _, err = run(["predict", odd, tmp_path / "d.png"], capsys)
    assert_one_line_error(
        code,
        err,
        r"odd.npz takes 10 inputs, but predict prepares pictures of "
        r"784 \(mnist, fashion-mnist\) or 64 \(digits\) inputs",
    )


@pytest.mark.parametrize("config", [{"dataset": ["digits"]}, {"dataset": 7}, ["digits"]])
def test_predict_of_a_model_file_with_a_damaged_dataset_is_one_line(
    model, tmp_path, capsys, config
):
    net, _ = model
    path = save_model(tmp_path / "damaged.npz", net, config=config)
    save_gray(tmp_path / "d.png", stroke_image())
    code, out, err = run(["predict", path, tmp_path / "d.png"], capsys)
    assert_one_line_error(
        code,
        err,
        r"damaged.npz: its training settings .* are damaged: give "
        r"--like",
    )
    assert out == ""
    code, _, err = run(["predict", path, tmp_path / "d.png", "--like", "digits"], capsys)
    assert code == 0, err  # --like needs nothing from them


def test_fashion_mnist_style_gives_back_the_article_from_its_photo():
    """Trimmed to the article, 224 px → 28 px by 8×8 means (exact for an 8× enlargement),
    sharpened, centred: Zalando's steps, recomputed independently (fashion_recipe)."""
    item = fashion_item()
    x = prepare_image(fashion_picture(item), "fashion-mnist")
    np.testing.assert_allclose(x, fashion_recipe(item), atol=1e-6)
    # the intensities are negated, not stretched: the grey dress stays grey next to its panel
    assert x.reshape(28, 28)[14, 8] == pytest.approx(153 / 255, abs=1e-6)


def test_sharpen_is_an_unsharp_mask_with_a_gaussian_of_sigma_1():
    from scipy.ndimage import gaussian_filter

    from nnscratch.images import sharpen

    x = np.random.default_rng(0).uniform(0.3, 0.7, (9, 7))  # far from the clipping at 0 and 1
    blurred = gaussian_filter(x, sigma=1.0, truncate=1.0, mode="nearest")
    np.testing.assert_allclose(sharpen(x), x + (x - blurred), atol=1e-12)


# ---------------------------------------------------------------------------- class names


@pytest.mark.slow  # the real Fashion-MNIST test set
def test_fashion_classes_by_name_in_evaluate_and_the_figures(fashion_model, tmp_path, capsys):
    from nnscratch import SimpleConvNet
    from nnscratch.cli.plot_model import model_figure, saved_model
    from nnscratch.datasets.sources import locate

    if locate(FASHION_MNIST) is None:
        pytest.skip("Fashion-MNIST is not on this machine: apt-get install dataset-fashion-mnist")
    names = FASHION_MNIST.classes
    _, path, _ = fashion_model
    code, out, err = run(["evaluate", path], capsys)
    assert code == 0, err
    for k, name in enumerate(names):  # "6 Shirt      ...": each row by index and name
        assert re.search(rf"^{k} {re.escape(name)} +\d", out, re.M), (name, out)

    model, data = saved_model(path)
    assert data.classes == names
    pred = model.net.predict(data.x_test).argmax(axis=1)
    wrong = np.flatnonzero(pred != data.t_test)
    mistakes = model_figure("mistakes", model, data)
    titles = [ax.get_title() for ax in mistakes.axes if ax.get_title()]
    below = [ax.get_xlabel() for ax in mistakes.axes if ax.get_xlabel()]
    assert titles and all(t.startswith("predicted ") for t in titles)
    assert {t.split(" (")[0][len("predicted ") :] for t in titles} <= set(names)
    assert {b[len("true ") :] for b in below} <= {names[k] for k in data.t_test[wrong]}
    confusion = model_figure("confusion", model, data)
    ax = confusion.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == list(names)
    assert [t.get_text() for t in ax.get_yticklabels()] == list(names)
    zh = model_figure("confusion", model, data, lang="zh-CN")
    assert "衬衫" in [t.get_text() for t in zh.axes[0].get_yticklabels()]  # Shirt

    cnn = save_model(
        tmp_path / "cnn.npz",
        SimpleConvNet(input_dim=(1, 28, 28), seed=0),
        config={"dataset": "fashion-mnist"},
    )
    model, data = saved_model(cnn)
    maps = model_figure("feature-maps", model, data, index=0)
    assert f"input (class {names[data.t_test[0]]})" in [a.get_title() for a in maps.axes]


def test_messages_say_what_the_samples_are_and_where_they_came_from(tmp_path, capsys):
    assert main(["train", "--dataset", "moons", "--epochs", "1", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "on moons (400 train, 100 test points generated by nnscratch.datasets.toy2d)" in out
    code, out, _ = run(["evaluate", tmp_path / "model.npz"], capsys)
    assert code == 0
    assert "on moons (test, 100 points generated by nnscratch.datasets.toy2d)" in out
    code, _, err = run(["evaluate", tmp_path / "model.npz", "--dataset", "digits"], capsys)
    assert_one_line_error(
        code, err, "the test set of digits has 64 features per sample but the model takes 2"
    )


def test_a_saved_model_is_read_onto_the_fast_engine(tmp_path):
    from nnscratch import SimpleConvNet, engine
    from nnscratch.cli.predict import open_model

    net = SimpleConvNet(input_dim=(1, 8, 8), seed=0)
    path = save_model(tmp_path / "cnn.npz", net, config={"dataset": "digits"})
    model = open_model(path)
    assert {type(layer) for layer in model.net.layers} <= set(engine.FAST.values())
    x = np.random.default_rng(0).random((5, 1, 8, 8))
    np.testing.assert_allclose(model.net.predict(x), net.predict(x), rtol=1e-12)  # the same net
