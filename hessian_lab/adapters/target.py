"""From a user's text to an engine optimizer: ``module:Attr`` / ``file.py:Attr`` and ``k=v,...``.

    obj = load_target("torch.optim:Adam")          # or "my_opts.py:Lion", "pkg.mod:make"
    kwargs = parse_kwargs("lr=1e-2,betas=(0.9,0.99),amsgrad=True")
    optimizer = adapt(obj, kwargs)                 # a TorchOptimizer, StepFunction, ...

What ``adapt`` makes of an object:

- a ``torch.optim.Optimizer`` subclass -> :class:`~.torch_optim.TorchOptimizer`;
- a built-in optimizer class (a subclass of ``hessian_lab``'s ``Optimizer``) -> an instance;
  an instance is taken as it is;
- a callable whose signature has at least three required positional parameters ->
  :class:`~.step_function.StepFunction` (``step(x, g, state)``);
- any other callable -> a ``params -> Optimizer`` factory for :class:`TorchOptimizer`.

Values in ``k=v`` are Python literals read by :func:`ast.literal_eval` (numbers, ``True``/
``False``/``None``, tuples and lists of them); nothing is evaluated.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import inspect
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..optimizers.base import Optimizer
from .step_function import StepFunction
from .torch_optim import TorchOptimizer, is_torch_optimizer_class

__all__ = ["TargetError", "load_target", "parse_kwargs", "adapt", "describe", "register"]

_MAX_KWARGS_TEXT = 2000


class TargetError(ValueError):
    """A target or kwargs that cannot be used; ``str`` is one line saying what is allowed."""


def _split_top_level(text: str) -> list[str]:
    parts, depth, current = [], 0, []
    for ch in text:
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    parts.append("".join(current))
    return parts


def _literal(node: ast.AST, key: str):
    """A number, bool, None, or a tuple/list of them; TargetError for anything else."""
    if isinstance(node, ast.Constant) and (
        node.value is None or isinstance(node.value, (bool, int, float))
    ):
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        value = _literal(node.operand, key)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return -value if isinstance(node.op, ast.USub) else value
    if isinstance(node, (ast.Tuple, ast.List)):
        items = [_literal(item, key) for item in node.elts]
        return tuple(items) if isinstance(node, ast.Tuple) else items
    raise TargetError(
        f"--kwargs {key}: only numbers, True/False/None and tuples or lists of them are allowed"
    )


def parse_kwargs(text: str | None) -> dict[str, Any]:
    """``"lr=1e-2,betas=(0.9,0.99)"`` -> ``{"lr": 0.01, "betas": (0.9, 0.99)}``.

    ``true``/``false`` are accepted as booleans. Raises :class:`TargetError` naming the bad
    item. The text is parsed into a syntax tree and only literal nodes are read.
    """
    if text is None or not text.strip():
        return {}
    if len(text) > _MAX_KWARGS_TEXT:
        raise TargetError(f"--kwargs is longer than {_MAX_KWARGS_TEXT} characters")
    out: dict[str, Any] = {}
    for item in _split_top_level(text):
        key, sep, value = item.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not key.isidentifier() or not value:
            raise TargetError(f"--kwargs item {item.strip()!r} must look like name=value")
        if key in out:
            raise TargetError(f"--kwargs names {key} twice")
        lowered = {"true": "True", "false": "False", "none": "None"}.get(value.lower(), value)
        try:
            tree = ast.parse(lowered, mode="eval")
            out[key] = _literal(tree.body, key)
        except (SyntaxError, ValueError, RecursionError, MemoryError) as error:
            if isinstance(error, TargetError):
                raise
            shown = value if len(value) <= 40 else value[:37] + "..."
            raise TargetError(
                f"--kwargs {key}={shown}: not a number, bool or tuple (nested too deeply?)"
                if isinstance(error, (RecursionError, MemoryError))
                else f"--kwargs {key}={shown}: not a number, bool or tuple"
            ) from None
    return out


def _import_file(path: Path):
    name = f"_hessian_lab_target_{abs(hash(str(path.resolve())))}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise TargetError(f"target file {path} cannot be imported")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _local_source(top: str) -> Path | None:
    """``top.py`` or ``top/__init__.py`` in the current directory, if there is one."""
    cwd = Path.cwd()
    for candidate in (cwd / f"{top}.py", cwd / top / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _import_module(where: str):
    """Import ``where``; a module of the current directory resolves there, nothing else.

    The current directory is never put on ``sys.path`` for the run (a ``sympy.py`` there
    would be executed when torch imports sympy): a top-level module found in it is loaded
    from its file, and only while the target's own import runs is the directory searched,
    last, for the modules next to it.
    """
    top = where.split(".")[0]
    local = _local_source(top) if top not in sys.modules else None
    if local is None:
        return importlib.import_module(where)
    is_package = local.name == "__init__.py"
    spec = importlib.util.spec_from_file_location(
        top, local, submodule_search_locations=[str(local.parent)] if is_package else None
    )
    if spec is None or spec.loader is None:
        raise TargetError(f"module {top} in the current directory cannot be imported")
    module = importlib.util.module_from_spec(spec)
    sys.modules[top] = module
    cwd = str(Path.cwd())
    sys.path.append(cwd)
    try:
        spec.loader.exec_module(module)
        return importlib.import_module(where)
    except BaseException:
        sys.modules.pop(top, None)
        raise
    finally:
        if sys.path and sys.path[-1] == cwd:
            sys.path.pop()


def load_target(text: str) -> Any:
    """``module:Attr`` or ``path.py:Attr`` (``Attr`` may be dotted: ``module:Class.make``).

    A module of the current directory resolves there (as with ``python -m``), without
    putting the directory on the import path for anything else (see
    :func:`_import_module`).
    """
    where, sep, attr = text.rpartition(":")
    if not sep or not where or not attr:
        raise TargetError(
            f"target {text!r} must be module:Attr or path/to/file.py:Attr (e.g. torch.optim:Adam)"
        )
    try:
        if where.endswith(".py"):
            path = Path(where)
            if not path.is_file():
                raise TargetError(f"target file {where} does not exist")
            module = _import_file(path)
        else:
            module = _import_module(where)
    except TargetError:
        raise
    except (Exception, SystemExit) as error:  # the user's module may raise anything on import
        raise TargetError(
            f"target {text!r}: cannot import {where} ({type(error).__name__}: {error})"
        ) from None
    obj = module
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise TargetError(f"target {text!r}: {where} has no attribute {attr}") from None
        except Exception as error:  # a module __getattr__ may raise anything
            raise TargetError(
                f"target {text!r}: looking up {part} raised {type(error).__name__}: {error}"
            ) from None
    return obj


def _required_positional(fn) -> int:
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return 1
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return sum(p.kind in kinds and p.default is inspect.Parameter.empty for p in params)


def describe(obj: Any) -> str:
    """What :func:`adapt` makes of ``obj``: ``torch``, ``native``, ``step`` or ``factory``."""
    if isinstance(obj, Optimizer) or (inspect.isclass(obj) and issubclass(obj, Optimizer)):
        return "native"
    if is_torch_optimizer_class(obj):
        return "torch"
    if inspect.isclass(obj) or not callable(obj):
        raise TargetError(
            f"{getattr(obj, '__name__', repr(obj))} is not an optimizer: expected a "
            "torch.optim.Optimizer subclass, a params -> Optimizer callable or a "
            "step(x, g, state) function"
        )
    return "step" if _required_positional(obj) >= 3 else "factory"


def adapt(
    obj: Any,
    kwargs: Mapping[str, Any] | None = None,
    layout: str = "separate",
    seed: int = 0,
    *,
    create_graph: bool = True,
    each_step=None,
    shape=None,
) -> Optimizer:
    """``obj`` with ``kwargs`` as an engine optimizer (see module doc); ValueError if unusable.

    ``create_graph``, ``each_step`` and ``shape``: see :class:`~.torch_optim.TorchOptimizer`
    (``shape`` also reshapes a step function's ``x`` and ``g``; ``each_step`` is for torch
    optimizers only).
    """
    kwargs = dict(kwargs or {})
    kind = describe(obj)
    if each_step is not None and kind not in ("torch", "factory"):
        raise TargetError("--each-step applies to torch optimizers (and factories) only")
    if shape is not None and kind == "native":
        raise TargetError("built-in optimizers act on vectors: --assume matrix does not apply")
    if kind == "native":
        if isinstance(obj, Optimizer):
            if kwargs:
                import dataclasses

                return dataclasses.replace(obj, **kwargs)
            return obj
        names = obj.hyperparameter_names()
        if "seed" in names and "seed" not in kwargs:
            kwargs["seed"] = seed
        unknown = sorted(set(kwargs) - set(names))
        if unknown:
            raise TargetError(
                f"--kwargs {unknown[0]}: not a hyperparameter of {obj.__name__}; "
                f"allowed: {', '.join(names)}"
            )
        return obj(**kwargs)
    if kind == "step":
        return StepFunction(obj, kwargs=kwargs, shape=shape)
    return TorchOptimizer(
        obj,
        kwargs,
        layout=layout,
        seed=seed,
        create_graph=create_graph,
        each_step=each_step,
        shape=shape,
    )


def validate(optimizer: Optimizer) -> None:
    """Build a torch adapter's optimizer once on a dummy parameter: TargetError if it fails."""
    if not isinstance(optimizer, TorchOptimizer):
        return
    import torch

    scalar = {k: (v[0] if isinstance(v, list) else v) for k, v in optimizer.kwargs.items()}
    param = torch.zeros(2, dtype=torch.float64, requires_grad=True)
    state = torch.random.get_rng_state()
    try:
        made = optimizer.factory([param], **scalar)
    except Exception as error:
        raise TargetError(
            f"{optimizer.label} cannot be built with --kwargs "
            f"{scalar or '{}'}: {type(error).__name__}: {error}"
        ) from None
    finally:
        torch.random.set_rng_state(state)
    if not isinstance(made, torch.optim.Optimizer):
        raise TargetError(
            f"{optimizer.label} returned {type(made).__name__}, not a torch.optim.Optimizer"
        )


def group_options(optimizer: Optimizer) -> dict[str, Any] | None:
    """Every option of a torch adapter's optimizer with its defaults filled in (row 0)."""
    if not isinstance(optimizer, TorchOptimizer):
        return None
    import torch

    scalar = {k: (v[0] if isinstance(v, list) else v) for k, v in optimizer.kwargs.items()}
    state = torch.random.get_rng_state()
    try:
        made = optimizer.factory(
            [torch.zeros(2, dtype=torch.float64, requires_grad=True)], **scalar
        )
    finally:
        torch.random.set_rng_state(state)
    return {k: v for k, v in made.param_groups[0].items() if k != "params"}


def register(name: str, obj: Any, *, replace: bool = False, **kwargs: Any):
    """Put an adapted optimizer into the catalog as ``name``; return its catalog entry.

    ``obj`` is anything :func:`adapt` takes (a ``torch.optim.Optimizer`` subclass, a
    factory, a step function); ``kwargs`` become the defaults of its class, so
    ``hessian_lab.make_optimizer(name)`` and ``hessian_lab.OPTIMIZERS[name]`` build it and
    the engine runs it like a built-in optimizer.

        >>> import torch
        >>> register("torch-sgd", torch.optim.SGD, lr=0.1).name
        'torch-sgd'
        >>> from hessian_lab import catalog
        >>> catalog.unregister("torch-sgd")
    """
    from dataclasses import field, fields, make_dataclass

    from .. import catalog

    base = adapt(obj, kwargs)
    if base.name and type(base).__module__.startswith("hessian_lab.optimizers"):
        raise TargetError(f"{name}: built-in optimizers are in the catalog already")
    validate(base)
    ident = "".join(ch if ch.isalnum() else "_" for ch in name)

    def default(value):
        if isinstance(value, Mapping):  # a mapping default must be made per instance
            return field(default_factory=lambda: dict(value))
        return field(default=value)

    cls = make_dataclass(
        f"Adapted_{ident}",
        [(f.name, f.type, default(getattr(base, f.name))) for f in fields(base)],
        bases=(type(base),),
        frozen=True,
        eq=False,
        namespace={"name": name, "__doc__": f"{name}: {type(base).__name__} of {obj!r}."},
    )
    return catalog.register(cls, replace=replace)
