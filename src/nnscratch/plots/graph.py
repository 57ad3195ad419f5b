"""Computational graphs drawn with matplotlib alone (no graphviz): a small generic structure, a
layered layout, a figure, DOT text for those who have graphviz, and a converter from an autograd
graph.

- :class:`Graph`: :class:`Node` s (variables and functions) and :class:`Edge` s, each edge with a
  text above it (the value flowing forward) and one below it (the derivative flowing back, drawn
  in red as in the book's figures 5-16/5-17);
- :func:`layout`: nodes in layers left → right (the longest path from the inputs; an input sits
  just before the node that uses it), ordered within a layer by the barycentre of their
  neighbours, so that edges cross little;
- :func:`graph_figure`: the figure, in English or Chinese (``lang=``); :func:`to_dot`: DOT text;
- :func:`from_variable`: the graph ``nnscratch.autograd`` recorded behind a Variable.

Lengths are in inches: the figure draws 1 data unit as 1 inch, so text measured in points fits
the boxes drawn around it.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.patches import Circle, Ellipse, FancyArrowPatch, FancyBboxPatch

from ..autograd.core import graph_functions
from ..errors import NnscratchError
from .lang import localized

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

__all__ = ["Edge", "Graph", "Node", "Placed", "from_variable", "graph_figure", "layout", "to_dot"]

KINDS = ("variable", "function")
LABEL_SIZE = 12  # points
DETAIL_SIZE = 9
EDGE_SIZE = 10.5
GRAD_COLOR = "#d62728"  # the book's red for backpropagation
VARIABLE_FILL = "#eaf1fb"
FUNCTION_FILL = "#fff3dc"


@dataclass
class Node:
    """A node: a ``"variable"`` (drawn as a rounded box) or a ``"function"`` (a circle, an
    ellipse for a long name). ``label``: its name or the op's symbol; ``detail``: lines drawn
    under the label (shape, value, gradient)."""

    id: str
    label: str
    kind: Literal["variable", "function"] = "variable"
    detail: list[str] = field(default_factory=list)


@dataclass
class Edge:
    """An arrow from node ``source`` to node ``target`` (their ids); ``above``: the text above
    it (a forward value), ``below``: the text under it, in red (a gradient)."""

    source: str
    target: str
    above: str | None = None
    below: str | None = None


@dataclass
class Graph:
    """A directed acyclic graph of :class:`Node` s and :class:`Edge` s (ids unique)."""

    nodes: list[Node] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)


@dataclass(frozen=True)
class Placed:
    """Where :func:`layout` put a node: its layer, its centre (x, y) and its size, in inches."""

    layer: int
    x: float
    y: float
    width: float
    height: float


# --- checks ------------------------------------------------------------------------------------


def _check(graph: Graph) -> None:
    """Unique ids, known kinds, edges between known nodes: else one clear error."""
    ids: set[str] = set()
    for node in graph.nodes:
        if node.id in ids:
            raise NnscratchError(f"graph: two nodes have the id {node.id!r}; give each its own")
        if node.kind not in KINDS:
            raise NnscratchError(
                f"graph: node {node.id!r} has kind {node.kind!r}; kind must be one of "
                f"{', '.join(KINDS)}"
            )
        ids.add(node.id)
    for edge in graph.edges:
        for end in (edge.source, edge.target):
            if end not in ids:
                raise NnscratchError(
                    f"graph: edge {edge.source!r} → {edge.target!r} names no node {end!r}"
                )


# --- layout ------------------------------------------------------------------------------------


def _depths(graph: Graph, preds: dict[str, list[str]], succs: dict[str, list[str]]):
    """Longest path from a source to each node (Kahn's topological order: no recursion), and that
    order; a cycle is an error."""
    indegree = {n.id: len(preds[n.id]) for n in graph.nodes}
    depth = dict.fromkeys(indegree, 0)
    ready = [n.id for n in graph.nodes if indegree[n.id] == 0][::-1]
    order = []
    while ready:
        v = ready.pop()
        order.append(v)
        for w in succs[v]:
            depth[w] = max(depth[w], depth[v] + 1)
            indegree[w] -= 1
            if indegree[w] == 0:
                ready.append(w)
    if len(order) < len(depth):
        stuck = sorted(v for v, d in indegree.items() if d > 0)
        raise NnscratchError(
            f"graph: it has a cycle (through {', '.join(map(repr, stuck[:5]))}); a computational "
            "graph has none"
        )
    return depth, order


def _fit(desired: list[float], weights: list[float], gaps: list[float]) -> list[float]:
    """Positions p, as near ``desired`` as possible (least squares, weighted) with
    p[i+1] - p[i] >= gaps[i]: weighted isotonic regression of desired - offsets (pool adjacent
    violators), offsets the cumulative gaps."""
    if len(desired) == 1:  # nothing to keep apart
        return list(desired)
    offsets = np.concatenate([[0.0], np.cumsum(gaps)])
    blocks: list[list[float]] = []  # [weighted mean, total weight, count]
    for d, w in zip(np.asarray(desired) - offsets, weights):
        blocks.append([d, w, 1])
        while len(blocks) > 1 and blocks[-2][0] > blocks[-1][0]:  # merge a violating pair
            m2, w2, c2 = blocks.pop()
            m1, w1, c1 = blocks.pop()
            blocks.append([(m1 * w1 + m2 * w2) / (w1 + w2), w1 + w2, c1 + c2])
    q = [m for m, _, c in blocks for _ in range(int(c))]
    return list(np.asarray(q) + offsets)


def _estimated_size(node: Node) -> tuple[float, float]:
    """A size from the number of characters, for a layout without a figure to measure text."""
    chars = max([len(node.label), *map(len, node.detail)], default=1)
    w, h = 0.1 * chars + 0.3, 0.25 + 0.16 * len(node.detail)
    if node.kind == "function":
        return (max(w, h, 0.45),) * 2
    return max(w, 0.5), h


def layout(
    graph: Graph,
    sizes: dict[str, tuple[float, float]] | None = None,
    *,
    gap: float = 1.0,
    vgap: float = 0.45,
    sweeps: int = 8,
) -> dict[str, Placed]:
    """A left-to-right layered layout: ``{node id: Placed}``.

    - layer: the longest path from a source (a node no edge enters) to the node, so every edge
      goes from a lower layer to a higher one; a source is then moved right, to the layer just
      before the first node that uses it (the tax next to its ×, as in the book);
    - within a layer, nodes are ordered and placed by their barycentre: the mean height of their
      inputs (of their users for a source), each weighted by (1 + its depth)², so the main path
      runs straight and side inputs come in beside it; ``sweeps`` passes, left to right;
    - ``sizes``: each node's (width, height) in inches (a guess from the text's length by
      default); layers are ``gap`` apart (edge to edge), nodes of one layer ``vgap``.
    """
    _check(graph)
    ids = [n.id for n in graph.nodes]
    preds: dict[str, list[str]] = {v: [] for v in ids}
    succs: dict[str, list[str]] = {v: [] for v in ids}
    for e in graph.edges:
        preds[e.target].append(e.source)
        succs[e.source].append(e.target)
    depth, _ = _depths(graph, preds, succs)
    layer = dict(depth)
    for v in ids:
        if not preds[v] and succs[v]:  # a source: just before its first user
            layer[v] = min(depth[w] for w in succs[v]) - 1
    size = {n.id: (sizes or {}).get(n.id) or _estimated_size(n) for n in graph.nodes}
    columns: list[list[str]] = [[] for _ in range(max(layer.values(), default=-1) + 1)]
    for v in ids:
        columns[layer[v]].append(v)
    weight = {v: (1.0 + depth[v]) ** 2 for v in ids}

    def gaps(column: Sequence[str]) -> list[float]:
        return [(size[a][1] + size[b][1]) / 2 + vgap for a, b in zip(column, column[1:])]

    y: dict[str, float] = {}
    for column in columns:  # a first guess: stacked in the graph's order, downwards from 0
        start = np.concatenate([[0.0], np.cumsum(gaps(column))])
        y.update(zip(column, start - start[-1] / 2 if column else start))
    for _ in range(sweeps):
        for column in columns:
            desired = {}
            for v in column:
                near = preds[v] or succs[v]
                total = sum(weight[u] for u in near)
                desired[v] = sum(weight[u] * y[u] for u in near) / total if near else y[v]
            column.sort(key=lambda v: (desired[v], y[v]))  # barycentre order, ties kept
            placed = _fit([desired[v] for v in column], [weight[v] for v in column], gaps(column))
            y.update(zip(column, placed))
    widths = [max((size[v][0] for v in column), default=0.0) for column in columns]
    x, at = [], 0.0
    for k, w in enumerate(widths):
        at += (widths[k - 1] / 2 + gap + w / 2) if k else 0.0
        x.append(at)
    # y grew downwards (the graph's first node on top): matplotlib's y grows upwards
    return {v: Placed(layer[v], x[layer[v]], -y[v], *size[v]) for v in ids}


# --- drawing -----------------------------------------------------------------------------------


def _measure(text: str, points: float, weight: str = "normal") -> tuple[float, float]:
    """(width, height) in inches of ``text`` in the current font (rcParams: the figure's
    language), as the Agg renderer draws it."""
    from matplotlib.backends.backend_agg import RendererAgg

    renderer = RendererAgg(1, 1, 72)  # 72 dpi: pixels are points
    prop = FontProperties(size=points, weight=weight)
    w, _, _ = renderer.get_text_width_height_descent(text or " ", prop, ismath=False)
    return (w if text else 0.0) / 72, points * 1.25 / 72  # line height: 1.25 × the font size


def _node_block(label: str, detail: Sequence[str]) -> tuple[float, float, list[float]]:
    """The label (if any) and detail lines as one block: its width, height and each line's
    height."""
    lines = [_measure(label, LABEL_SIZE, "bold")] if label else []
    lines += [_measure(d, DETAIL_SIZE) for d in detail]
    lines = lines or [(0.0, LABEL_SIZE * 1.25 / 72)]  # nothing to write: one empty line
    return max(w for w, _ in lines), sum(h for _, h in lines), [h for _, h in lines]


def _node_size(kind: str, block_w: float, block_h: float) -> tuple[float, float]:
    """A box around the text block (a variable) or the smallest ellipse holding it (a function:
    semi-axes √2 × the block's halves), a circle unless the name is long."""
    if kind == "variable":
        return max(block_w + 0.26, 0.55), max(block_h + 0.16, 0.38)
    a, b = block_w / math.sqrt(2) + 0.06, block_h / math.sqrt(2) + 0.06
    if a <= 1.4 * b:  # short: a circle
        r = max(math.hypot(block_w / 2, block_h / 2) + 0.06, 0.24)
        return 2 * r, 2 * r
    return 2 * a, 2 * max(b, 0.24)


def _boundary(p: Placed, kind: str, towards: tuple[float, float]) -> tuple[float, float]:
    """Where the ray from the node's centre towards ``towards`` leaves its shape."""
    dx, dy = towards[0] - p.x, towards[1] - p.y
    if dx == dy == 0:
        return p.x, p.y
    a, b = p.width / 2, p.height / 2
    if kind == "variable":
        t = min(a / abs(dx) if dx else math.inf, b / abs(dy) if dy else math.inf)
    else:
        t = 1 / math.hypot(dx / a, dy / b)
    return p.x + t * dx, p.y + t * dy


def _node_label(label: str, s: dict[str, str]) -> str:
    """A node's label as the table ``s`` draws it: the book's shopping names translated
    ("apple" → "苹果"), other labels as they are."""
    return s.get(f"graph.node.{label}", label)


@localized
def graph_figure(graph: Graph, title: str | None = None, *, s: dict[str, str]) -> Figure:
    """The computational graph ``graph`` as a figure, left to right, without graphviz.

    Variables are rounded boxes, functions circles (ellipses for long names) with the op's
    symbol or name; each edge is an arrow with its ``above`` text above it (forward) and its
    ``below`` text under it in red (backward), as the book's figures 5-16/5-17. ``title``: the
    figure's title (default: "Computational graph"); a legend says what the edge texts are when
    there are any. The book's shopping names (apple, apple_num, orange, orange_num, tax, price)
    are translated.
    """
    _check(graph)
    if not graph.nodes:
        raise NnscratchError("graph_figure: the graph has no nodes")
    kinds = {n.id: n.kind for n in graph.nodes}
    labels = {n.id: _node_label(n.label, s) for n in graph.nodes}
    blocks = {n.id: _node_block(labels[n.id], n.detail) for n in graph.nodes}
    sizes = {v: _node_size(kinds[v], w, h) for v, (w, h, _) in blocks.items()}
    texts = [t for e in graph.edges for t in (e.above, e.below) if t]
    widest = max((_measure(t, EDGE_SIZE)[0] for t in texts), default=0.0)
    places = layout(graph, sizes, gap=max(1.0, widest + 0.45), vgap=0.7)

    margin, head = 0.35, 0.6
    legend = [s["graph.legend_forward"], s["graph.legend_backward"]] if texts else []
    foot = 0.28 * len(legend) + (0.1 if legend else 0.0)
    x0 = min(p.x - p.width / 2 for p in places.values()) - margin
    x1 = max(p.x + p.width / 2 for p in places.values()) + margin
    y0 = min(p.y - p.height / 2 for p in places.values()) - margin - foot
    y1 = max(p.y + p.height / 2 for p in places.values()) + margin
    legend_w = max((_measure(t, DETAIL_SIZE + 1)[0] for t in legend), default=0.0)
    x1 = max(x1, x0 + legend_w + 2 * margin)
    heading = title if title is not None else s["graph.title"]
    x1 = max(x1, x0 + _measure(heading, 13)[0] + 2 * margin)
    width, height = x1 - x0, y1 - y0 + head
    fig = Figure(figsize=(width, height))
    ax = fig.add_axes((0.0, 0.0, 1.0, (height - head) / height))
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect("equal")
    ax.set_axis_off()
    fig.text(0.5, 1 - 0.3 / height, heading, ha="center", va="center", fontsize=13)

    _draw_edges(ax, graph, places, kinds)
    for node in graph.nodes:
        _draw_node(ax, places[node.id], node.kind, labels[node.id], node.detail, blocks[node.id])
    for i, (line, color) in enumerate(zip(legend, ("0.15", GRAD_COLOR))):
        ax.text(
            x0 + margin,
            y0 + 0.12 + 0.28 * (len(legend) - 1 - i),
            line,
            color=color,
            fontsize=DETAIL_SIZE + 1,
            va="bottom",
            parse_math=False,
        )
    return fig


def _draw_node(ax, p: Placed, kind: str, label: str, detail: Sequence[str], block) -> None:
    if kind == "variable":
        patch: Any = FancyBboxPatch(
            (p.x - p.width / 2, p.y - p.height / 2),
            p.width,
            p.height,
            boxstyle="round,pad=0,rounding_size=0.08",
            fc=VARIABLE_FILL,
            ec="0.25",
            lw=1.2,
        )
    elif p.width == p.height:
        patch = Circle((p.x, p.y), p.width / 2, fc=FUNCTION_FILL, ec="0.25", lw=1.2)
    else:
        patch = Ellipse((p.x, p.y), p.width, p.height, fc=FUNCTION_FILL, ec="0.25", lw=1.2)
    patch.set_zorder(2)
    ax.add_patch(patch)
    _, block_h, heights = block
    top = p.y + block_h / 2
    lines = [label, *detail] if label else list(detail)
    for i, (line, h) in enumerate(zip(lines, heights)):
        bold = i == 0 and bool(label)
        ax.text(
            p.x,
            top - h / 2,
            line,
            ha="center",
            va="center_baseline",
            fontsize=LABEL_SIZE if bold else DETAIL_SIZE,
            fontweight="bold" if bold else "normal",
            color="0.1" if bold else "0.35",
            zorder=3,
            parse_math=False,
        )
        top -= h


def _draw_edges(ax, graph: Graph, places: dict[str, Placed], kinds: Mapping[str, str]) -> None:
    """Arrows between the nodes' outlines (never under a node), texts along them; parallel edges
    (a variable used twice by one function) bend apart."""
    fan_in = {v: 0 for v in places}
    fan_out = dict(fan_in)
    for e in graph.edges:
        fan_in[e.target] += 1
        fan_out[e.source] += 1
    parallel = Counter((e.source, e.target) for e in graph.edges)
    seen: Counter[tuple[str, str]] = Counter()
    for e in graph.edges:
        pair = (e.source, e.target)
        rad = 0.3 * (seen[pair] - (parallel[pair] - 1) / 2)  # n parallel edges: fanned out
        seen[pair] += 1
        a, b = places[e.source], places[e.target]
        centres = np.array([b.x - a.x, b.y - a.y])
        # a curve leaves its node towards its control point, not along the chord
        bend = np.array([a.x + b.x, a.y + b.y]) / 2 + rad * np.array([centres[1], -centres[0]])
        start = np.array(_boundary(a, kinds[e.source], tuple(bend)))
        end = np.array(_boundary(b, kinds[e.target], tuple(bend)))
        ax.add_patch(
            FancyArrowPatch(
                tuple(start),
                tuple(end),
                arrowstyle="-|>",
                mutation_scale=14,
                shrinkA=0,
                shrinkB=1,
                lw=1.3,
                color="0.2",
                connectionstyle=f"arc3,rad={rad}",
                zorder=1,
            )
        )
        # the texts where this edge is furthest from its neighbours: edges that meet at a node
        # are close near it, so nearer the source when the target has more inputs
        t = 0.5 + 0.1 * np.sign(fan_out[e.source] - fan_in[e.target])
        # arc3's curve: a quadratic Bézier, control point rad·|AB| off the chord's middle
        chord = end - start
        control = (start + end) / 2 + rad * np.array([chord[1], -chord[0]])
        at = (1 - t) ** 2 * start + 2 * t * (1 - t) * control + t**2 * end
        tangent = (1 - t) * (control - start) + t * (end - control)
        angle = math.degrees(math.atan2(tangent[1], tangent[0]))
        if angle > 90 or angle <= -90:  # keep the text upright
            angle -= math.copysign(180, angle)
        normal = np.array([-math.sin(math.radians(angle)), math.cos(math.radians(angle))])
        for text, side, va, color in (
            (e.above, 1, "bottom", "0.1"),
            (e.below, -1, "top", GRAD_COLOR),
        ):
            if text:
                ax.text(
                    *(at + side * 0.05 * normal),
                    text,
                    ha="center",
                    va=va,
                    rotation=angle,
                    rotation_mode="anchor",
                    fontsize=EDGE_SIZE,
                    color=color,
                    zorder=3,
                    parse_math=False,
                )


# --- DOT ---------------------------------------------------------------------------------------


def _quote(text: str) -> str:
    """``text`` as a DOT quoted string: backslashes and quotes escaped, newlines as \\n."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def to_dot(graph: Graph) -> str:
    """The graph as DOT text, for ``dot -Tpng`` where graphviz is installed (nnscratch never calls
    it): left to right, variables as rounded boxes, functions as circles; each edge labelled with
    its ``above`` text and, in red at its tail, its ``below`` text (the gradient going back)."""
    _check(graph)
    lines = ["digraph G {", "  rankdir=LR;"]
    for n in graph.nodes:
        label = _quote("\n".join([n.label, *n.detail] if n.label else n.detail))
        shape = "shape=box, style=rounded" if n.kind == "variable" else "shape=circle"
        lines.append(f"  {_quote(n.id)} [label={label}, {shape}];")
    for e in graph.edges:
        attrs = []
        if e.above:
            attrs.append(f"label={_quote(e.above)}")
        if e.below:
            attrs.append(f'taillabel={_quote(e.below)}, labelfontcolor="red"')
        tail = f" [{', '.join(attrs)}]" if attrs else ""
        lines.append(f"  {_quote(e.source)} -> {_quote(e.target)}{tail};")
    lines.append("}")
    return "\n".join(lines) + "\n"


# --- from autograd -----------------------------------------------------------------------------


def _summary(array: Any) -> str:
    """A number as itself, a small array in full on one line, a larger one as its range."""
    a = np.asarray(array)
    if a.dtype.kind not in "biuf":  # not numbers: say what they are
        return f"{a.dtype}"
    if a.size == 0:
        return "[]"
    if a.size == 1:
        return f"{a.item():.4g}"
    if a.size <= 4:
        text = np.array2string(a, separator=", ", formatter={"all": lambda v: f"{v:.3g}"})
        return " ".join(text.split())  # one line
    return f"[{a.min():.3g} … {a.max():.3g}]"


def _variable_node(v: Any, node_id: str, values: bool, grads: bool) -> Node:
    detail = [str(tuple(v.shape))]
    if values:
        detail.append(f"data {_summary(v.data)}")
    grad = getattr(v, "grad", None)
    if grads and grad is not None:
        detail.append(f"grad {_summary(grad.data)}")
    return Node(node_id, v.name or "", "variable", detail)


def from_variable(y: Any, values: bool = False, grads: bool = False) -> Graph:
    """The graph autograd recorded behind the Variable ``y``: walking from ``y.creator`` back
    through each Function's ``inputs``, every Variable a node (its ``name``, or "", and its shape;
    with ``values`` its ``data``, with ``grads`` its ``grad.data``: a number, a small array, or
    a larger one's range), every Function a node named by its class (``Mul``, ``MatMul``), edges
    input → function → output.

    An explicit stack and a set of visited functions, no recursion: a chain of 10,000 operations
    is fine, and a function reached twice (its output used twice) is one node. An output the
    function no longer holds (its weak reference dead) is left out.
    """
    graph = Graph()
    var_ids: dict[int, str] = {}
    keep: list[Any] = []  # the objects whose id() names a node: alive, so no id is reused

    def variable(v: Any) -> str:
        if id(v) not in var_ids:
            var_ids[id(v)] = f"v{len(var_ids)}"
            keep.append(v)
            graph.nodes.append(_variable_node(v, var_ids[id(v)], values, grads))
        return var_ids[id(v)]

    variable(y)
    # autograd's own walk: each function once, without recursion
    for count, f in enumerate(graph_functions(y)):
        keep.append(f)
        f_id = f"f{count}"
        graph.nodes.append(Node(f_id, type(f).__name__, "function"))
        for ref in f.outputs:
            out = ref()
            if out is not None:  # freed: nothing to draw
                graph.edges.append(Edge(f_id, variable(out)))
        for x in f.inputs:
            graph.edges.append(Edge(variable(x), f_id))
    return graph
