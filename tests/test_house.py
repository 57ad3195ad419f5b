"""The house rules a reader would otherwise check by eye: small modules with one job each (at most
400 lines) and classes a reader can hold (at most 200 lines), counted on the source as it is."""

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "nnscratch"
MAX_MODULE_LINES = 400
MAX_CLASS_LINES = 200
MODULES = sorted(SRC.rglob("*.py"))


def class_sizes(source):
    """{"name:line": lines from its first decorator or ``class`` line to its last line} of every
    class, nested ones and ones of the same name too."""
    sizes = {}
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ClassDef):
            first = min([node.lineno] + [d.lineno for d in node.decorator_list])
            sizes[f"{node.name}:{node.lineno}"] = node.end_lineno - first + 1
    return sizes


def test_the_counter_counts_a_class_from_decorator_to_last_line():
    source = ("import x\n\n@dataclass\nclass A:\n    a: int\n\n    def f(self):\n        pass\n"
              "\n\nclass A:\n    pass\n")
    assert class_sizes(source) == {"A:4": 6, "A:11": 2}


def test_the_source_is_found():
    assert SRC / "nets.py" in MODULES and len(MODULES) > 20


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(SRC)))
def test_module_at_most_400_lines(path):
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_MODULE_LINES, f"{path.name} has {lines} lines: split it by job"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(SRC)))
def test_classes_at_most_200_lines(path):
    big = {name: n for name, n in class_sizes(path.read_text(encoding="utf-8")).items()
           if n > MAX_CLASS_LINES}
    assert not big, f"{path.name}: classes over {MAX_CLASS_LINES} lines: {big}"
