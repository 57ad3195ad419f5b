"""Computational graphs without graphviz: the layered layout, the figure (PNG, SVG, Chinese), the
DOT text and the conversion of an autograd graph (a small fake of its attributes, built here)."""

import io
import itertools
import re
import shutil
import warnings
import weakref

import numpy as np
import pytest
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch
from PIL import Image

from nnscratch.errors import NnscratchError
from nnscratch.layer_naive import buy_apple, buy_apple_orange
from nnscratch.plots import Edge, Graph, Node, from_variable, graph_figure, save_figure, to_dot
from nnscratch.plots import lang as plot_lang
from nnscratch.plots.graph import GRAD_COLOR, _boundary, layout
from nnscratch.plots.strings import ZH_CN

needs_cjk = pytest.mark.skipif(
    plot_lang.cjk_font() is None, reason="no CJK font (apt-get install fonts-noto-cjk)"
)


def _cjk(text):
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def _texts(fig):
    return [t.get_text() for t in fig.texts] + [t.get_text() for ax in fig.axes for t in ax.texts]


def _random_dag(seed, n=25):
    """Edges only from a lower index to a higher one: acyclic by construction."""
    rng = np.random.default_rng(seed)
    nodes = [Node(f"n{i}", f"node {i}", "variable" if i % 2 else "function") for i in range(n)]
    edges = [
        Edge(f"n{i}", f"n{j}")
        for i, j in itertools.combinations(range(n), 2)
        if rng.random() < 0.12
    ]
    return Graph(nodes, edges)


# --- the layout ----------------------------------------------------------------------------------

GRAPHS = {
    "apple": lambda: buy_apple().graph(),
    "apple_orange": lambda: buy_apple_orange().graph(),
    "random0": lambda: _random_dag(0),
    "random1": lambda: _random_dag(1),
}


@pytest.mark.parametrize("name", GRAPHS)
def test_every_edge_goes_to_a_higher_layer_and_further_right(name):
    graph = GRAPHS[name]()
    places = layout(graph)
    assert set(places) == {n.id for n in graph.nodes}
    for e in graph.edges:
        assert places[e.source].layer < places[e.target].layer, e
        assert places[e.source].x < places[e.target].x, e


@pytest.mark.parametrize("name", GRAPHS)
def test_no_two_nodes_overlap(name):
    places = layout(GRAPHS[name]()).values()
    for a, b in itertools.combinations(places, 2):
        apart_x = abs(a.x - b.x) >= (a.width + b.width) / 2
        apart_y = abs(a.y - b.y) >= (a.height + b.height) / 2
        assert apart_x or apart_y, (a, b)


def test_layers_are_the_longest_path_and_inputs_sit_next_to_their_user():
    places = layout(buy_apple_orange().graph())
    layers = {v: p.layer for v, p in places.items()}
    assert layers == {
        "apple": 0,
        "apple_num": 0,
        "orange": 0,
        "orange_num": 0,
        "mul_apple": 1,
        "mul_orange": 1,
        "add_apple_orange": 2,
        "tax": 2,  # longest path 0, moved to just before its ×
        "mul_tax": 3,
        "price": 4,
    }


def test_the_barycentre_order_uncrosses_edges():
    # given in the crossing order: a above b, but a's user d below b's user c
    graph = Graph(
        [Node("a", "a"), Node("b", "b"), Node("c", "c", "function"), Node("d", "d", "function")],
        [Edge("a", "d"), Edge("b", "c"), Edge("c", "e"), Edge("d", "e")],
    )
    graph.nodes.append(Node("e", "e"))
    y = {v: p.y for v, p in layout(graph, sweeps=0).items()}
    assert (y["a"] > y["b"]) != (y["d"] > y["c"])  # as given: crossed
    y = {v: p.y for v, p in layout(graph).items()}
    assert (y["a"] > y["b"]) == (y["d"] > y["c"])


def test_the_first_node_is_drawn_on_top():
    y = {v: p.y for v, p in layout(buy_apple_orange().graph()).items()}
    assert y["apple"] > y["apple_num"] > y["orange"] > y["orange_num"]  # the book's order


@pytest.mark.parametrize(
    ("graph", "match"),
    [
        (Graph([Node("a", "a"), Node("a", "b")]), "two nodes have the id 'a'"),
        (Graph([Node("a", "a", "tensor")]), "kind must be one of variable, function"),
        (Graph([Node("a", "a")], [Edge("a", "b")]), "names no node 'b'"),
        (
            Graph([Node("a", "a"), Node("b", "b")], [Edge("a", "b"), Edge("b", "a")]),
            "cycle",
        ),
    ],
)
def test_bad_graphs_are_clear_errors(graph, match):
    with pytest.raises(NnscratchError, match=match):
        layout(graph)


def test_the_arrows_end_on_the_outlines():
    box = layout(Graph([Node("v", "a variable")]))["v"]
    x, y = _boundary(box, "variable", (box.x + 10, box.y + 1))
    assert x == pytest.approx(box.x + box.width / 2)  # the right side
    assert abs(y - box.y) < box.height / 2
    circle = layout(Graph([Node("f", "×", "function")]))["f"]
    x, y = _boundary(circle, "function", (circle.x + 3, circle.y + 4))
    assert np.hypot(x - circle.x, y - circle.y) == pytest.approx(circle.width / 2)


# --- the figure ----------------------------------------------------------------------------------


def test_forward_values_above_and_gradients_below_in_red():
    graph = buy_apple().graph()
    fig = graph_figure(graph)
    assert isinstance(fig, Figure)
    drawn = fig.axes[0].texts
    # each edge's two texts first, in the edges' order: above (forward), then below (backward)
    for e, above, below in zip(graph.edges, drawn[0::2], drawn[1::2]):
        assert (above.get_text(), below.get_text()) == (e.above, e.below)
        assert above.get_position()[1] > below.get_position()[1]
        assert below.get_color() == GRAD_COLOR
        assert above.get_color() != GRAD_COLOR
    texts = {t.get_text() for t in drawn}
    # every node's label, the apple's translated
    assert {"number of apples", "apple", "tax", "price", "×"} <= set(texts)
    # an arrow for each edge, under the nodes
    arrows = [p for p in fig.axes[0].patches if isinstance(p, FancyArrowPatch)]
    nodes = [p for p in fig.axes[0].patches if not isinstance(p, FancyArrowPatch)]
    assert len(arrows) == 5 and len(nodes) == 6
    assert max(a.get_zorder() for a in arrows) < min(n.get_zorder() for n in nodes)


def test_png_and_svg_without_graphviz(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))  # no `dot` anywhere: we never call it
    assert shutil.which("dot") is None
    graph = buy_apple_orange().graph()
    save_figure(graph_figure(graph, "Figure 5-17"), tmp_path / "g.png")
    save_figure(graph_figure(graph), tmp_path / "g.svg")
    with Image.open(tmp_path / "g.png") as image:
        image.verify()
        assert image.format == "PNG"
        width, height = image.size
    assert width > height > 100
    svg = (tmp_path / "g.svg").read_text(encoding="utf-8")
    assert svg.lstrip().startswith("<?xml") and svg.rstrip().endswith("</svg>")
    for label in ("number of apples", "orange", "tax", "price", "715", "650", "3.3"):
        assert f"<!-- {label} -->" in svg, label  # matplotlib names each text it draws


@needs_cjk
def test_the_chinese_figure_draws_chinese_labels():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fig = graph_figure(buy_apple_orange().graph(), lang="zh-CN")
        fig.savefig(io.BytesIO(), format="png")
    missing = [str(w.message) for w in caught if "missing from" in str(w.message)]
    assert not missing, missing
    texts = _texts(fig)
    for name in ("apple", "apple_num", "orange", "orange_num", "tax", "price"):
        assert ZH_CN[f"graph.node.{name}"] in texts
    assert {"苹果", "苹果的个数", "橘子", "消费税", "支付金额", "计算图"} <= set(texts)
    assert not any(_cjk(t) for t in _texts(graph_figure(buy_apple_orange().graph())))


def test_a_graph_without_texts_draws_without_a_legend():
    graph = Graph([Node("x", "x"), Node("f", "Exp", "function")], [Edge("x", "f")])
    texts = _texts(graph_figure(graph, "mine"))
    assert "mine" in texts and "Computational graph" not in texts
    assert not any("arrows" in t for t in texts)
    with pytest.raises(NnscratchError, match="no nodes"):
        graph_figure(Graph())


# --- DOT -----------------------------------------------------------------------------------------

QUOTED = r'"((?:[^"\\]|\\.)*)"'


def _parse_dot(text):
    """Just enough of DOT to check the structure: declared node ids and the edges' ends."""
    assert text.startswith("digraph G {") and text.rstrip().endswith("}")
    unquoted = re.sub(QUOTED, '""', text)
    assert unquoted.count("{") == unquoted.count("}") == 1
    assert unquoted.count("[") == unquoted.count("]")
    nodes, edges = set(), []
    for line in text.splitlines()[1:-1]:
        if m := re.fullmatch(rf"\s*{QUOTED} -> {QUOTED}( \[.*\])?;", line):
            edges.append((m[1], m[2]))
        elif m := re.fullmatch(rf"\s*{QUOTED} \[label={QUOTED}, .*\];", line):
            nodes.add(m[1])
        else:
            assert re.fullmatch(r"\s*\w+=\w+;", line), line
    return nodes, edges


def test_to_dot_is_structurally_valid():
    graph = buy_apple_orange().graph()
    nodes, edges = _parse_dot(to_dot(graph))
    assert nodes == {n.id for n in graph.nodes}
    assert edges == [(e.source, e.target) for e in graph.edges]
    assert all(a in nodes and b in nodes for a, b in edges)
    dot = to_dot(graph)
    assert '"apple" -> "mul_apple" [label="100", taillabel="2.2", labelfontcolor="red"];' in dot


def test_to_dot_escapes_quotes_backslashes_and_newlines():
    graph = Graph(
        [Node('say "hi"', 'a "quoted"\\ label', detail=["(2, 3)"]), Node("f", "f", "function")],
        [Edge('say "hi"', "f", above='"x"')],
    )
    dot = to_dot(graph)
    nodes, edges = _parse_dot(dot)
    assert nodes == {r"say \"hi\"", "f"}
    assert edges == [(r"say \"hi\"", "f")]
    assert r'[label="a \"quoted\"\\ label\n(2, 3)", shape=box' in dot
    assert r'[label="\"x\""];' in dot


# --- from an autograd graph (a fake of its attributes) -------------------------------------------


class Variable:
    def __init__(self, data, name=None):
        self.data = np.asarray(data, dtype=float)
        self.name = name
        self.grad = None
        self.creator = None

    @property
    def shape(self):
        return self.data.shape


class Function:
    def __call__(self, *inputs):
        self.inputs = list(inputs)
        out = Variable(self.forward(*(x.data for x in inputs)))
        out.creator = self
        self.outputs = [weakref.ref(out)]
        return out


class Mul(Function):
    def forward(self, a, b):
        return a * b


class Add(Function):
    def forward(self, a, b):
        return a + b


class Exp(Function):
    def forward(self, a):
        return np.exp(a)


class Tanh(Function):
    def forward(self, a):
        return np.tanh(a)


def kind(graph, node_id):
    return next(n.kind for n in graph.nodes if n.id == node_id)


def _names(graph):
    return sorted(n.label for n in graph.nodes if n.kind == "function")


def test_from_variable_a_variable_used_twice():
    x = Variable(2.0, "x")
    a = Exp()(x)
    y = Mul()(a, a)  # a used twice by one function
    y.name = "y"
    z = Add()(y, a)  # and again by another: Exp is reached twice, drawn once
    z.name = "z"
    graph = from_variable(z)
    assert _names(graph) == ["Add", "Exp", "Mul"]
    variables = [n for n in graph.nodes if n.kind == "variable"]
    assert sorted(n.label for n in variables) == ["", "x", "y", "z"]  # a has no name
    ids = {n.label: n.id for n in graph.nodes}
    pairs = [(e.source, e.target) for e in graph.edges]
    assert len(pairs) == 3 + 3 + 2  # Add: 2 in 1 out, Mul: 2 in 1 out, Exp: 1 in 1 out
    assert pairs.count((ids[""], ids["Mul"])) == 2  # both of Mul's inputs
    assert (ids[""], ids["Add"]) in pairs and (ids["x"], ids["Exp"]) in pairs
    assert (ids["Exp"], ids[""]) in pairs and (ids["Mul"], ids["y"]) in pairs
    assert all(n.detail == ["()"] for n in variables)
    for e in graph.edges:
        assert {kind(graph, e.source), kind(graph, e.target)} == {"variable", "function"}
    graph_figure(graph).savefig(io.BytesIO(), format="png")  # parallel edges drawn too


def test_from_variable_values_and_grads():
    x = Variable([[1.0, 2.0], [3.0, 4.0]], "x")
    w = Variable(np.arange(6.0), "w")
    y = Add()(Mul()(x, x), Variable(0.5, "c"))
    y.name = "y"
    y.grad = Variable(np.ones((2, 2)))
    x.grad = Variable([[2.0, 4.0], [6.0, 8.0]])
    w.grad = None
    detail = {n.label: n.detail for n in from_variable(y, values=True, grads=True).nodes}
    assert detail["x"] == ["(2, 2)", "data [[1, 2], [3, 4]]", "grad [[2, 4], [6, 8]]"]
    assert detail["c"] == ["()", "data 0.5"]  # no grad: no line
    assert detail["y"] == ["(2, 2)", "data [[1.5, 4.5], [9.5, 16.5]]", "grad [[1, 1], [1, 1]]"]
    assert detail["Add"] == [] and detail["Mul"] == []
    big = Exp()(Variable(np.linspace(-1, 2, 100), "v"))
    detail = {n.label: n.detail for n in from_variable(big, values=True).nodes}
    assert detail["v"] == ["(100,)", "data [-1 … 2]"]
    assert {n.label: n.detail for n in from_variable(y).nodes}["x"] == ["(2, 2)"]


def test_from_variable_an_input_alone():
    graph = from_variable(Variable(1.0, "x"))
    assert [(n.label, n.kind) for n in graph.nodes] == [("x", "variable")] and not graph.edges


def test_from_variable_skips_freed_outputs():
    x = Variable(1.0, "x")
    y = Tanh()(x)
    gone = Variable(0.0)
    y.creator.outputs.append(weakref.ref(gone))  # a second output, then freed
    del gone
    graph = from_variable(y)
    assert len(graph.nodes) == 3 and len(graph.edges) == 2


def test_from_variable_a_chain_of_10000_without_recursion():
    x = Variable(0.5, "x")
    y = x
    for _ in range(10_000):
        y = Tanh()(y)
    graph = from_variable(y)
    assert len(graph.nodes) == 20_001 and len(graph.edges) == 20_000
    assert _names(graph) == ["Tanh"] * 10_000
    nodes, edges = _parse_dot(to_dot(graph))
    assert len(nodes) == 20_001 and len(edges) == 20_000
