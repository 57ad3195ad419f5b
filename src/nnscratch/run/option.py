"""One option of the run table (``run.options``): what kind of value it takes, and how a value is
checked, parsed from text (a command line, a query string) and shown — with one message for a
bad value, wherever it came from: "lr must be a number in (0, ∞), got '-1'"."""

from __future__ import annotations

import dataclasses
from typing import Any

from ..errors import NnscratchError
from ..nets import WEIGHT_INITS
from ..validation import POSITIVE, POSITIVE_INT, Interval, check_names, parse_hidden

#: the text a command line or a query string gives for "no value" of an optional option
NONE_TEXT = ("", "none")
BOOL_TEXT = {
    "true": True,
    "yes": True,
    "on": True,
    "1": True,
    "false": False,
    "no": False,
    "off": False,
    "0": False,
}


@dataclasses.dataclass(frozen=True)
class Option:
    """One option. ``kind``: "int", "float", "bool", "choice", "names" (some of the choices, each
    once: "x1,x2,x1^2"), "sizes" (hidden layer widths, "256,128"), "init" (he, xavier or a
    standard deviation) or "path" (a file's); ``interval`` bounds numbers,
    ``choices`` lists choices; ``optional``: None (no value) is allowed; ``default``: the value when
    not given (None: by the rules of :func:`defaults`); ``target``: where the value goes ("network",
    "optimizer" (an argument of the optimizer's class), "data" (``load_dataset``'s) or "run");
    ``scale``: how a search draws it ("log": 10^U(log low, log high)); ``group`` and ``label``: the
    playground's fieldset and field; ``where``: where a narrowed copy of the option holds, said
    in its message (" in the playground")."""

    name: str
    kind: str
    group: str
    target: str
    help: str
    help_zh: str
    label: str
    label_zh: str
    interval: Interval | None = None
    choices: tuple[str, ...] = ()
    optional: bool = False
    default: object = None
    scale: str = "linear"
    where: str = ""

    @property
    def flag(self) -> str:
        """The command line's spelling: ``--weight-decay``."""
        return "--" + self.name.replace("_", "-")

    def describe(self) -> str:
        """What the option takes, in words, for an error: "a number in [0, 1)", "one of ..."."""
        if self.kind in ("int", "float"):  # which have an interval
            return self.interval.describe()  # type: ignore[union-attr]
        if self.kind == "choice":
            return f"one of {', '.join(map(str, self.choices))}"
        if self.kind == "bool":
            return "true or false"
        if self.kind == "sizes":
            return "layer sizes separated by commas, e.g. 256,128"
        if self.kind == "names":
            return f"some of {', '.join(self.choices)}, each once, separated by commas"
        if self.kind == "path":
            return "the path of a file"
        return f"{' or '.join(WEIGHT_INITS)}, or a standard deviation > 0 such as 0.01"

    def error(self, value: object) -> NnscratchError:
        """The one message for a bad ``value`` of this option."""
        return NnscratchError(f"{self.name} must be {self.describe()}{self.where}, got {value!r}")

    def check(self, value: object) -> Any:
        """``value`` (a Python value: number, bool, str, list) as this option's type, checked;
        else :meth:`error`."""
        if value is None and self.optional:
            return None
        if self.kind in ("int", "float"):
            if not (
                self.interval.contains(value)  # type: ignore[union-attr]  # as in describe()
                and (self.kind == "float" or not isinstance(value, float))
            ):
                raise self.error(value)
            return int(value) if self.kind == "int" else float(value)
        if self.kind == "bool":
            if not isinstance(value, bool):
                raise self.error(value)
            return value
        if self.kind == "choice":
            if isinstance(value, bool) or value not in self.choices:
                raise self.error(value)
            return value
        if self.kind == "sizes":
            return self._sizes(value)
        if self.kind == "names":
            return self._names(value)
        if self.kind == "path":
            if not isinstance(value, str) or not value.strip() or "\0" in value:  # no path has NUL
                raise self.error(value)
            return value
        if isinstance(value, str) and value in WEIGHT_INITS:  # init
            return value
        if not POSITIVE.contains(value):
            raise self.error(value)
        return float(value)

    def parse(self, text: object) -> Any:
        """The value of ``text`` as a command line or a query string gives it, checked."""
        if not isinstance(text, str):
            return self.check(text)
        stripped = text.strip()
        if self.optional and stripped.lower() in NONE_TEXT:
            return None
        try:
            if self.kind == "int":
                value: object = int(stripped)
            elif self.kind == "float":
                value = float(stripped)
            elif self.kind == "bool":
                value = BOOL_TEXT[stripped.lower()]
            elif self.kind == "init" and stripped not in WEIGHT_INITS:
                value = float(stripped)
            else:
                value = stripped
            return self.check(value)
        except (ValueError, KeyError):  # NnscratchError too: the message shows the text given
            raise self.error(text) from None

    def _sizes(self, value: object) -> tuple[int, ...]:
        if isinstance(value, (list, tuple)):
            if not value or not all(POSITIVE_INT.contains(v) for v in value):
                raise self.error(value)
            return tuple(int(v) for v in value)
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            raise self.error(value)
        try:
            return parse_hidden(str(value), self.name)
        except NnscratchError:
            raise self.error(value) from None

    def _names(self, value: object) -> tuple[str, ...]:
        try:
            return tuple(check_names(value, self.choices, self.name))
        except NnscratchError:
            raise self.error(value) from None

    def shown(self, value: object) -> str:
        """``value`` as typed or shown in help: (256, 128) → 256,128; True → on; 0.0 → 0."""
        if value is None:
            return "none"
        if isinstance(value, bool):
            return "on" if value else "off"
        if isinstance(value, (list, tuple)):
            return ",".join(map(str, value))
        return f"{value:g}" if isinstance(value, float) else str(value)
