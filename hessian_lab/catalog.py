"""The optimizer catalog: the one list every other place derives its optimizers from.

Each :class:`Entry` says, once, what the rest of the package needs to know about a method:

- ``name``: what users type (``hessian-lab run -o NAME``, ``make_optimizer(NAME)``);
- ``target``: where its class lives, ``"module:Class"`` inside :mod:`hessian_lab.optimizers`
  (imported on first use, so reading the catalog costs no NumPy), or the class itself;
- ``defaults``: the CLI's hyperparameter texts when the user gives none (anything not
  listed keeps the class's own default);
- ``optimum``: hyperparameter -> the theory quantity at which the method is optimal on a
  quadratic (``lr -> "lr_opt"`` for gd). The CLI uses it as default on a quadratic, the
  sweep draws it as the theoretical star, ``hessian-lab theory`` predicts the steps there;
- ``also_predicted``: further named theory points ``label -> {hyperparameter: quantity}``
  (Nesterov's textbook tuning) that ``hessian-lab theory`` predicts as well;
- ``iteration_matrix``: for a linear method, the name of its per-mode iteration matrix in
  :data:`hessian_lab.symbolic.rates.ITERATION_MATRICES` (``"gd"``, ``"heavy_ball"``,
  ``"nesterov"``), from which its closed-form recurrence and rate are generated (Newton
  and diagonal Newton are GD's matrix on the modes of ``H^-1 H`` and ``diag(H)^-1 H``,
  preconditioned GD on those of ``diag(H)^-p H``);
  ``None`` otherwise;
- ``color``: the colour every figure draws this method in (a matplotlib colour text;
  :func:`hessian_lab.plots.palette` reads it, so the CLI, the experiments and the
  notebooks agree). Red is left out: figures keep it for the minimizer and divergence.
  ``None`` (a registered method that gives none): the figures pick a spare colour.

Adding an optimizer is its module and one entry here (plus its tests); :func:`register`
adds one at run time (a user's method, a torch.optim adapter) and every consumer — the
registry :data:`hessian_lab.OPTIMIZERS`, :func:`hessian_lab.make_optimizer`, the CLI's
``-o`` names — sees it. Standard library only: the CLI's ``--help`` reads it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from importlib import import_module
from types import MappingProxyType
from typing import Any

__all__ = [
    "BUILTIN",
    "Entry",
    "entries",
    "entry",
    "names",
    "optimizer_of",
    "predicted_points",
    "register",
    "unregister",
]


def _frozen(mapping: Mapping | None) -> Mapping:
    return MappingProxyType(dict(mapping or {}))


class Entry:
    """One optimizer of the catalog (see the module docstring for each field); read-only.

    A plain class rather than a dataclass: ``import hessian_lab`` reads the catalog, and
    the dataclasses module would double its cost.
    """

    __slots__ = (
        "name",
        "target",
        "defaults",
        "optimum",
        "also_predicted",
        "iteration_matrix",
        "color",
    )

    def __init__(
        self,
        name: str,
        target: Any,
        *,
        defaults: Mapping[str, str] | None = None,
        optimum: Mapping[str, str] | None = None,
        also_predicted: Mapping[str, Mapping[str, str]] | None = None,
        iteration_matrix: str | None = None,
        color: str | None = None,
    ) -> None:
        points = {k: _frozen(v) for k, v in (also_predicted or {}).items()}
        values = (name, target, _frozen(defaults), _frozen(optimum), _frozen(points))
        values = (*values, iteration_matrix, color)
        for slot, value in zip(self.__slots__, values, strict=True):
            object.__setattr__(self, slot, value)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"catalog entries are read-only (tried to set {name!r})")

    def __repr__(self) -> str:
        return f"Entry({self.name!r}, {self.target!r})"

    @property
    def class_name(self) -> str:
        """The class's name (``"GD"``), known without importing it."""
        if isinstance(self.target, str):
            return self.target.partition(":")[2]
        return self.target.__name__

    def load(self) -> type:
        """The optimizer class (imports its module on first use)."""
        if not isinstance(self.target, str):
            return self.target
        module, _, attr = self.target.partition(":")
        return getattr(import_module(f".optimizers.{module}", __package__), attr)

    def cli_defaults(self, theory: bool) -> dict[str, str]:
        """The CLI's default hyperparameter texts; ``theory``: quadratic quantities exist."""
        out = dict(self.defaults)
        if theory:
            out.update(self.optimum)
        return out


BUILTIN: tuple[Entry, ...] = (
    Entry("gd", "gd:GD", optimum={"lr": "lr_opt"}, iteration_matrix="gd", color="tab:blue"),
    Entry(
        "momentum",
        "momentum:Momentum",
        optimum={"lr": "lr_hb_opt", "beta": "beta_hb_opt"},
        iteration_matrix="heavy_ball",
        color="tab:orange",
    ),
    Entry(
        "nesterov",
        "nesterov:Nesterov",
        optimum={"lr": "lr_nag_opt", "beta": "beta_nag_opt"},
        also_predicted={
            "nesterov-textbook": {"lr": "lr_nag_textbook", "beta": "beta_nag_textbook"}
        },
        iteration_matrix="nesterov",
        color="tab:green",
    ),
    Entry("adagrad", "adagrad:AdaGrad", defaults={"lr": "0.1"}, color="tab:purple"),
    Entry("rmsprop", "rmsprop:RMSProp", defaults={"lr": "0.01"}, color="tab:brown"),
    Entry("adam", "adam:Adam", defaults={"lr": "0.05"}, color="tab:pink"),
    Entry("adamw", "adam:AdamW", defaults={"lr": "0.05"}, color="tab:olive"),
    Entry("adahessian", "adahessian:AdaHessian", color="tab:cyan"),
    Entry("newton", "newton:Newton", iteration_matrix="gd", color="navy"),
    Entry("diag-newton", "newton:DiagonalNewton", iteration_matrix="gd", color="darkgoldenrod"),
    Entry(
        "precond-gd",
        "preconditioned:PreconditionedGD",
        defaults={"lr": "0.1"},
        iteration_matrix="gd",
        color="mediumseagreen",
    ),
)

_CATALOG: dict[str, Entry] = {e.name: e for e in BUILTIN}


def names() -> tuple[str, ...]:
    """Every optimizer's name, in catalog order (built-ins first, then registered ones)."""
    return tuple(_CATALOG)


def entries() -> tuple[Entry, ...]:
    return tuple(_CATALOG.values())


def entry(name: str) -> Entry:
    """The entry called ``name``; ``ValueError`` naming what is allowed otherwise."""
    found = _CATALOG.get(name)
    if found is None:
        raise ValueError(f"unknown optimizer {name!r}; allowed: {', '.join(_CATALOG)}")
    return found


#: other names a figure's label may start with (a run label "heavy ball lr=0.0035")
ALIASES = {"heavy ball": "momentum", "heavy-ball": "momentum", "sgd": "gd", "nag": "nesterov"}


def optimizer_of(label: str) -> Entry | None:
    """The entry a run label names by its first word(s) (``"GD lr=0.0198"`` -> gd,
    ``"diag-newton (exact)"`` -> diag-newton, ``"nesterov-textbook"`` -> nesterov), else
    ``None``; case-insensitive, the longest name wins, the name must end at a non-letter.

        >>> optimizer_of("AdamW lr=0.05").name, optimizer_of("float32")
        ('adamw', None)
    """
    text = label.strip().lower()
    known = {**{n: n for n in _CATALOG}, **ALIASES}
    for name in sorted(known, key=len, reverse=True):
        if text.startswith(name) and (len(text) == len(name) or not text[len(name)].isalnum()):
            return _CATALOG.get(known[name])
    return None


def register(new: Entry | type, *, replace: bool = False, **fields_) -> Entry:
    """Add an optimizer to the catalog; return its entry.

    ``new`` is an :class:`Entry`, or an optimizer class (a subclass of
    :class:`hessian_lab.optimizers.Optimizer` with a ``name``), whose entry takes the other
    fields from ``fields_`` (``defaults=``, ``optimum=``...). A name already taken raises
    ``ValueError`` unless ``replace=True``.

        >>> from hessian_lab.optimizers import GD
        >>> class Halved(GD):
        ...     name = "halved-gd"
        >>> register(Halved).name in names()
        True
        >>> unregister("halved-gd")
    """
    if not isinstance(new, Entry):
        name = getattr(new, "name", "")
        if not isinstance(name, str) or not name:
            raise ValueError(f"{new!r} has no optimizer name (set its class attribute 'name')")
        new = Entry(name, new, **fields_)
    elif fields_:
        raise TypeError("give either an Entry or a class with its fields, not both")
    if new.name in _CATALOG and not replace:
        raise ValueError(f"optimizer {new.name!r} is already in the catalog")
    _CATALOG[new.name] = new
    return new


def unregister(name: str) -> None:
    """Remove a registered optimizer (built-ins stay: the package relies on them)."""
    if any(e.name == name for e in BUILTIN):
        raise ValueError(f"{name!r} is built in and cannot be removed")
    entry(name)
    del _CATALOG[name]


def predicted_points() -> Iterator[tuple[str, str, Mapping[str, str]]]:
    """``(label, optimizer name, {hyperparameter: quantity})`` for every theory point:
    each method's optimum (labelled by its name), then its ``also_predicted`` points."""
    for e in _CATALOG.values():
        if e.optimum:
            yield e.name, e.name, e.optimum
        for label, texts in e.also_predicted.items():
            yield label, e.name, texts
