"""Optimizer specs: ``"momentum:lr=0.5*lr_opt,beta=0.9"`` -> an optimizer.

A spec is ``NAME`` or ``NAME:key=value,...``; NAME is a catalog name, each value a number,
an expression in a problem's theory quantities (``lr_opt``, ``lr_max``, ``kappa``, ...),
a pair ``(0.9,0.999)``, an integer, ``true``/``false``, or one of a setting's choices
(``probe=gaussian``). Hyperparameters not given take the catalog's defaults: on a
quadratic with theory quantities, the method's theoretical optimum. Every resolved
optimizer carries a spec that rebuilds it exactly (``ResolvedOptimizer.spec``).

    >>> import hessian_lab as hl
    >>> opt = hl.optimizer("momentum:lr=0.5*lr_opt,beta=0.9", hl.problem("steep-valley"))
    >>> round(opt.lr, 6), opt.beta
    (0.009901, 0.9)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .. import catalog
from .text import SpecError, blame, parse_number, parse_value, split_top_level

__all__ = [
    "OptimizerSpec",
    "ResolvedOptimizer",
    "optimizer",
    "parse_optimizer_spec",
    "default_specs",
    "parse_specs",
    "resolve_optimizer",
]

_TRUE, _FALSE = ("true", "1", "yes", "on"), ("false", "0", "no", "off")


@dataclass
class OptimizerSpec:
    """``NAME:key=value,...`` split but not yet evaluated: ``values`` maps key -> text."""

    name: str
    values: dict[str, str] = field(default_factory=dict)
    text: str = ""
    given: bool = True  # typed by the user (False: a command's default list)

    @property
    def where(self) -> str:
        """How errors name it: the option typed, or the default it came from."""
        return f"--optimizer {self.text!r}" if self.given else f"{self.name} (no -o given)"


def parse_optimizer_spec(text: str, allowed: Sequence[str] | None = None) -> OptimizerSpec:
    """Split an optimizer spec; the name must be one of ``allowed`` (default: the catalog)."""
    allowed = catalog.names() if allowed is None else allowed
    raw = str(text).strip()
    name, _, rest = raw.partition(":")
    name = name.strip().lower()
    if name not in allowed:
        raise SpecError(
            f"--optimizer {raw!r}: unknown optimizer {name!r}; allowed: {', '.join(allowed)} "
            "(as NAME or NAME:key=value,...)"
        )
    values: dict[str, str] = {}
    if rest.strip():
        with blame(f"--optimizer {raw!r}"):
            parts = split_top_level(rest)
        for part in parts:
            key, eq, value = part.partition("=")
            key = key.strip()
            if not eq or not key or not value.strip():
                raise SpecError(
                    f"--optimizer {raw!r}: {part.strip()!r} is not key=value "
                    "(e.g. 'momentum:lr=0.175*lr_opt,beta=0.9')"
                )
            if key in values:
                raise SpecError(f"--optimizer {raw!r}: {key!r} is given twice")
            values[key] = value.strip()
    return OptimizerSpec(name, values, raw)


def parse_specs(texts: Sequence[str]) -> list[OptimizerSpec]:
    """Every spec of a list (``-o`` given several times)."""
    return [parse_optimizer_spec(t) for t in texts]


def default_specs() -> list[OptimizerSpec]:
    """Every catalog optimizer at its defaults: what ``run`` takes when no ``-o`` is given."""
    return [OptimizerSpec(name, {}, name, given=False) for name in catalog.names()]


@dataclass
class ResolvedOptimizer:
    """An optimizer built from a spec: the object, every hyperparameter, where each came from."""

    name: str
    optimizer: Any
    values: dict[str, Any]  # every field, JSON-ready
    sources: dict[str, str]  # field -> the expression it came from (non-literal only)
    spec: str  # a spec that rebuilds it exactly

    def describe(self) -> str:
        """``lr=0.0198 (lr_opt), beta=0.9`` for the given / chosen hyperparameters, plus a
        class default that changes the problem solved (AdamW's ``weight_decay=0.01``)."""
        parts = []
        for key, text in self.sources.items():
            shown = _shown(self.values[key], "{:.4g}")
            parts.append(f"{key}={shown}" + (f" ({text})" if text != shown else ""))
        decay = self.values.get("weight_decay")
        if "weight_decay" not in self.sources and decay:
            parts.append(f"weight_decay={_shown(decay, '{:.4g}')} (default)")
        return ", ".join(parts) if parts else "(library defaults)"


def _shown(value: Any, number: str = "{!r}") -> str:
    """A value as a spec writes it: ``true``, ``(0.9,0.999)``, ``gaussian``, ``0.01``."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (list, tuple)):
        return "(" + ",".join(_shown(v, number) for v in value) + ")"
    if isinstance(value, float):
        return number.format(value)
    return str(value)


def _convert(key: str, meta: Mapping, text: str, names: Mapping[str, float]) -> Any:
    """The value of ``key=text`` for a field of kind ``meta["kind"]``."""
    kind, what = meta.get("kind", "hyper"), f"{key}={text}"
    if kind == "hyper":
        return parse_value(text, names, what)
    if kind == "pair":
        value = parse_number(text, names, what)
        if not isinstance(value, tuple) or len(value) != 2:
            raise SpecError(f"{key} must be a pair such as (0.9,0.999); got {text!r}")
        return value
    choices = meta.get("choices")
    low = text.strip().strip("'\"").lower()
    if choices is not None and set(choices) <= {True, False}:
        if low in _TRUE + _FALSE:
            return low in _TRUE
        raise SpecError(f"{key} must be true or false; got {text!r}")
    if choices is not None and all(isinstance(c, str) for c in choices):
        if low not in choices:
            raise SpecError(f"{key} must be one of {', '.join(choices)}; got {text!r}")
        return low
    if kind == "seed" and text.strip().startswith("("):
        parts = split_top_level(text.strip()[1:-1])
        return [_integer(key, p) for p in parts if p.strip()]
    return _integer(key, text)


def _integer(key: str, text: str) -> int:
    try:
        return int(text.strip())
    except ValueError:
        raise SpecError(f"{key} must be an integer; got {text!r}") from None


def resolve_optimizer(
    spec: OptimizerSpec | str,
    quantities: Mapping[str, float] | None = None,
    overrides: Mapping[str, Any] | None = None,
    use_defaults: bool = True,
) -> ResolvedOptimizer:
    """Evaluate a spec's values (numbers or expressions in ``quantities``) into an optimizer.

    ``overrides`` maps a field to an already numeric value (a sweep's grid column);
    ``use_defaults`` adds the catalog's defaults (theory optima when ``quantities``).
    """
    from dataclasses import fields

    from .. import OPTIMIZERS, make_optimizer

    spec = parse_optimizer_spec(spec) if isinstance(spec, str) else spec
    metas = {f.name: f.metadata for f in fields(OPTIMIZERS[spec.name])}
    where = spec.where
    for alias in ("beta1", "beta2"):
        if alias in spec.values and "betas" in metas and alias not in metas:
            raise SpecError(f"{where}: give betas=(beta1,beta2) rather than {alias}")
    for key in spec.values:
        if key not in metas:
            raise SpecError(
                f"{where}: unknown hyperparameter {key!r} for {spec.name}; "
                f"allowed: {', '.join(metas)}"
            )
    texts = catalog.entry(spec.name).cli_defaults(bool(quantities)) if use_defaults else {}
    texts.update(spec.values)
    overrides = dict(overrides or {})
    kwargs: dict[str, Any] = dict(overrides)
    sources: dict[str, str] = {}
    for key, text in texts.items():
        if key in overrides:
            continue
        try:
            kwargs[key] = _convert(key, metas[key], text, dict(quantities or {}))
        except ValueError as error:
            message = str(error)
            if quantities is None and "unknown name" in message:
                message += " (theory quantities such as lr_opt need a quadratic problem)"
            raise SpecError(f"{where}: {message}") from None
        sources[key] = text
    try:
        built = make_optimizer(spec.name, **kwargs)
    except ValueError as error:
        hint = _theory_default_hint(spec, texts, quantities, error)
        raise SpecError(f"{where}: {error}{hint}") from None
    values = {}
    for key in metas:
        if key not in overrides:
            value = getattr(built, key)
            values[key] = list(value) if isinstance(value, tuple) else value
    exact = ",".join(f"{k}={_shown(v)}" for k, v in values.items())
    return ResolvedOptimizer(spec.name, built, values, sources, f"{spec.name}:{exact}")


def _theory_default_hint(spec: OptimizerSpec, texts: Mapping[str, str], quantities, why) -> str:
    """Where a refused value came from, when a theory default (``beta_hb_opt``...) gave it:
    at an extreme problem an optimum can round onto its own bound (beta = 1.0)."""
    defaulted = [k for k, t in texts.items() if k not in spec.values and t in (quantities or {})]
    named = [k for k in defaulted if str(why).startswith(k)]
    defaulted = named or defaulted
    if not defaulted:
        return ""
    shown = ", ".join(f"{k} = {texts[k]} = {quantities[texts[k]]!r}" for k in defaulted)
    example = ",".join(f"{k}=..." for k in defaulted)
    return f" (the default {shown} on this problem; give it: -o '{spec.name}:{example}')"


def optimizer(text: str, problem: Any = None) -> Any:
    """The optimizer a spec names, as ``hessian-lab run -o TEXT`` builds it on ``problem``.

    ``problem`` supplies the theory quantities the spec may use (``lr_opt``, ...) and, on a
    quadratic, the theoretical optimum as default; without one, the catalog's defaults.
    Raises :class:`~hessian_lab.spec.SpecError` (one line) for a bad spec.
    """
    from .problems import theory_quantities

    quantities = None if problem is None else theory_quantities(problem)[0]
    return resolve_optimizer(parse_optimizer_spec(text), quantities).optimizer
