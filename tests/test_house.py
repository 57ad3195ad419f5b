"""The house rules a reader would otherwise check by eye, read off the source's imports and calls
(``ast``): arrows one way — the textbook imports nothing of the engine, the runs or the front
ends, and the library never imports a front end; no circular imports; no private name imported
across modules; networks and optimizers constructed only by ``run.build``; one ``experiments``
folder."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "nnscratch"
MODULES = {
    ".".join(("nnscratch", *p.relative_to(SRC).with_suffix("").parts)).removesuffix(".__init__"): p
    for p in sorted(SRC.rglob("*.py"))
}
#: the textbook: what a learner reads, plain NumPy (DESIGN: "the textbook")
TEXTBOOK = {
    f"nnscratch.{name}"
    for name in (
        "functions",
        "numgrad",
        "gradcheck",
        "layers",
        "conv",
        "optim",
        "nets",
        "convnets",
        "loop",
        "metrics",
        "time_layers",
        "gpt",
        "rnnlm",
    )
}
#: what the textbook may import besides NumPy and itself: the errors and the checks
TEXTBOOK_MAY_IMPORT = {"nnscratch.errors", "nnscratch.validation"}
#: the front ends: they take settings from people and call the library
FRONT_ENDS = (
    "nnscratch.cli",
    "nnscratch.playground",
    "nnscratch.experiments",
    "nnscratch.sklearn",
    "nnscratch.__main__",
    "nnscratch.entry",
)
#: the classes only ``run.build`` constructs in the library (the textbook's own defaults aside)
CONSTRUCTED = {
    "TwoLayerNet",
    "MultiLayerNet",
    "SimpleConvNet",
    "DeepConvNet",
    "SGD",
    "Momentum",
    "Nesterov",
    "AdaGrad",
    "RMSprop",
    "Adam",
}


def resolve(module, node):
    """The absolute module an import node of ``module`` names (``from . import x`` → the
    package; the names are added by :func:`imported_modules`)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    package = module if MODULES[module].name == "__init__.py" else module.rsplit(".", 1)[0]
    for _ in range(node.level - 1):
        package = package.rsplit(".", 1)[0]
    base = node.module if node.level == 0 else ".".join(filter(None, (package, node.module)))
    return [base]


def imports(module):
    """(imported module, names, at module level) for every import statement of ``module`` that
    names an nnscratch module, a name imported ``from`` a package resolved to its submodule
    where it is one."""
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    top = {id(node) for node in tree.body}
    type_checking = {
        id(n)
        for node in tree.body
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
        for n in ast.walk(node)
    }
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, (ast.Import, ast.ImportFrom)) or id(node) in type_checking:
            continue
        for base in resolve(module, node):
            if not base.startswith("nnscratch"):
                continue
            names = [a.name for a in node.names] if isinstance(node, ast.ImportFrom) else []
            submodules = [f"{base}.{n}" for n in names if f"{base}.{n}" in MODULES]
            for target in submodules or [base]:
                found.append((target, names, id(node) in top))
    return found


def test_the_reader_finds_the_imports():
    found = {target for target, _, _ in imports("nnscratch.convnets")}
    assert {"nnscratch.conv", "nnscratch.layers", "nnscratch.nets"} <= found
    assert "nnscratch.engine.layers" in {t for t, _, _ in imports("nnscratch.engine")}


@pytest.mark.parametrize("module", sorted(TEXTBOOK))
def test_the_textbook_imports_only_the_textbook(module):
    outside = {
        target for target, _, _ in imports(module) if target not in TEXTBOOK | TEXTBOOK_MAY_IMPORT
    }
    assert not outside, f"{module} imports {outside}"


@pytest.mark.parametrize("module", sorted(m for m in MODULES if not m.startswith(FRONT_ENDS)))
def test_the_library_never_imports_a_front_end(module):
    front = {target for target, _, _ in imports(module) if target.startswith(FRONT_ENDS)}
    assert not front, f"{module} imports the front end(s) {front}"


def test_no_circular_imports():
    """Tarjan's strongly connected components of the import graph (every import, in functions
    too; a package's own ``__init__`` aside, which only lists its names)."""
    graph = {m: {t for t, _, _ in imports(m) if t in MODULES and t != m} for m in MODULES}
    index, low, stack, on_stack, cycles = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.add(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for module in graph:
        if module not in index:
            visit(module)
    assert not cycles, cycles


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_private_name_is_imported_across_modules(module):
    private = [
        (target, n)
        for target, names, _ in imports(module)
        for n in names
        if n.startswith("_") and not n.startswith("__")
    ]
    assert not private, f"{module} imports private names {private}"


@pytest.mark.parametrize(
    "module", sorted(m for m in MODULES if m not in TEXTBOOK and m != "nnscratch.run.build")
)
def test_networks_and_optimizers_are_constructed_only_in_build(module):
    """A call of a network or optimizer class by name, outside ``run.build`` (and the textbook's
    own defaults, such as Trainer's SGD for ``lr=``, which names its one exception)."""
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    calls = {
        node.func.id if isinstance(node.func, ast.Name) else node.func.attr
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, (ast.Name, ast.Attribute))
    }
    allowed = {"SGD"} if module == "nnscratch.run.trainer" else set()
    assert not (calls & CONSTRUCTED) - allowed, f"{module} constructs {calls & CONSTRUCTED}"


def test_one_experiments_folder_and_no_stale_design_reference():
    assert not (ROOT / "experiments").exists(), "experiments/ at the root and in the package"
    for path in MODULES.values():
        assert "DESIGN.md" not in path.read_text(encoding="utf-8"), path
