"""User text -> sympy expression (or float), without ``eval``.

Text from the CLI, config files and notebooks is parsed with ``ast.parse(text,
mode="eval")`` and the tree is walked against a whitelist:

- numbers: ``int`` and ``float`` literals (not ``bool``, ``complex`` or strings);
- names: declared variables, allowed named quantities, and the constants ``pi`` and ``e``;
- operators: binary ``+ - * / **``, unary ``-`` and ``+``, parentheses;
- calls of a fixed list of functions (``FUNCTIONS``) with positional arguments only;
- a flat tuple ``(0.9, 0.999)``, at the top level only, in :func:`evaluate`.

Anything else (attributes, subscripts, lambdas, keywords, comprehensions, unknown or
underscore names, text over ``MAX_LENGTH`` characters or ``MAX_NODES`` syntax nodes,
exponents above ``MAX_EXPONENT``, nesting deeper than ``MAX_DEPTH``) raises
:class:`ExpressionError`, a ``ValueError`` whose message is one line naming the offending
part and what is allowed. Nesting counts a flat chain ``a + b - c + ...`` (or
``a * b / c * ...``) as one level, however many terms it has: size is limited apart, by
``MAX_LENGTH`` and ``MAX_NODES``. Nothing in the text is
ever executed: the walker builds the result itself, node by node.

Two results share one walker: a sympy expression (:func:`parse_expression`, real symbols)
and a plain float or tuple of floats (:func:`evaluate`, for hyperparameters such as
``0.175*lr_opt``).
"""

from __future__ import annotations

import ast
import keyword
import math
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import sympy

__all__ = [
    "MAX_LENGTH",
    "MAX_EXPONENT",
    "MAX_DEPTH",
    "MAX_NODES",
    "MAX_VARIABLES",
    "FUNCTIONS",
    "CONSTANTS",
    "ExpressionError",
    "parse_expression",
    "symbols_for",
    "variables_for",
    "variable_name",
    "evaluate",
    "check_real",
]

MAX_LENGTH = 1000  # characters of input text
MAX_EXPONENT = 1000  # largest |exponent| of a numeric power
MAX_DEPTH = 50  # deepest nesting; a chain a + b - c + ... (or a * b / c ...) is one level
MAX_NODES = 500  # numbers, names, operations and calls in one expression
MAX_VARIABLES = 10_000  # variables of one expression (most may be unused: zero gradient)
MAX_DIGITS = 4000  # largest number of decimal digits of an exact numeric power
FLOAT64_MAX = 1.7976931348623157e308  # the largest |constant| an objective may hold

CONSTANTS = ("pi", "e", "E")  # E: sympy's printed name of e


def numeric_softplus(u):
    """``log(1 + e^u)`` as ``max(u, 0) + log1p(exp(-|u|))``: never overflows; a float or a
    NumPy / torch array (array API). The generated code of ``softplus`` runs this."""
    if isinstance(u, (int, float)):
        return max(u, 0.0) + math.log1p(math.exp(-abs(u)))
    from array_api_compat import array_namespace

    xp = array_namespace(u)
    return xp.where(u > 0, u, u * 0) + xp.log1p(xp.exp(-xp.abs(u)))


def numeric_sigmoid(u):
    """``1/(1 + e^-u)`` as ``1/(1 + e)`` for ``u >= 0`` and ``e/(1 + e)`` below, with
    ``e = exp(-|u|)``: never overflows; a float or a NumPy / torch array."""
    if isinstance(u, (int, float)):
        e = math.exp(-abs(u))
        return 1.0 / (1.0 + e) if u >= 0 else e / (1.0 + e)
    from array_api_compat import array_namespace

    xp = array_namespace(u)
    e = xp.exp(-xp.abs(u))
    return xp.where(u >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


# name -> (name of the sympy builder, float builder); one argument each. sympy is imported
# only when a sympy expression is built: the float walker (CLI hyperparameters) never needs it.
FUNCTIONS: dict[str, tuple[str, Callable[[float], float]]] = {
    "exp": ("exp", math.exp),
    "log": ("log", math.log),
    "sqrt": ("sqrt", math.sqrt),
    "sin": ("sin", math.sin),
    "cos": ("cos", math.cos),
    "tan": ("tan", math.tan),
    "atan": ("atan", math.atan),
    "sinh": ("sinh", math.sinh),
    "cosh": ("cosh", math.cosh),
    "tanh": ("tanh", math.tanh),
    "abs": ("Abs", abs),
    "Abs": ("Abs", abs),  # sympy's own spelling, so printed expressions parse back
    "sigmoid": ("sigmoid", lambda x: numeric_sigmoid(x)),
    "softplus": ("softplus", lambda x: numeric_softplus(x)),
}


def _sympy_builder(name: str) -> Callable[[Any], Any]:
    """The sympy function called ``name`` (``sigmoid``, ``softplus``: our own, overflow-safe
    functions from :mod:`hessian_lab.symbolic.functions`)."""
    import sympy

    if name in ("sigmoid", "softplus"):  # overflow-safe functions of their own
        from .symbolic import functions

        return getattr(functions, name)
    return getattr(sympy, name)


_OPERATORS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**"}
_FAMILIES = {
    ast.Add: "sum",
    ast.Sub: "sum",
    ast.Mult: "product",
    ast.Div: "product",
    ast.Pow: "power",
}
_UNARY = {ast.USub: "-", ast.UAdd: "+"}

_ALLOWED_SYNTAX = "numbers, names, + - * / **, unary -, parentheses and calls of " + ", ".join(
    FUNCTIONS
)


class ExpressionError(ValueError):
    """A rejected expression; ``str(error)`` is one line."""

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(message.split()))


def _quote(text: str, limit: int = 60) -> str:
    """``text`` as a short one-line repr for messages."""
    shown = text if len(text) <= limit else text[: limit - 3] + "..."
    return repr(shown)


# --------------------------------------------------------------------------- algebras
def _real_float64(value):
    """``value`` (a sympy number whose parts are float64-sized) if it is a finite real
    float64, else :class:`_Reject`: a constant the numeric layer could not hold."""
    import sympy

    shown = _quote(str(value), 40)
    approx = value.evalf(20)
    if approx.has(sympy.nan, sympy.zoo, sympy.oo, -sympy.oo):
        raise _Reject(f"the constant {shown} is undefined or infinite")
    real, imaginary = approx.as_real_imag()
    if imaginary != 0:
        raise _Reject(f"the constant {shown} is not real", "objectives are real functions")
    if not math.isfinite(float(real)):
        raise _Reject(
            f"the constant {shown} is not finite in float64", f"|constants| <= {FLOAT64_MAX:.4g}"
        )
    return value


def _checked(value):
    """``value`` itself; if it is a number, checked by :func:`_real_float64` as it is formed,
    so that no later step builds on an infinite or complex constant."""
    return _real_float64(value) if value.is_number else value


def _bound_power(base, exponent) -> None:
    """Refuse ``base**exponent`` (numeric exponent) if sympy would form a huge number or an
    exponent tower: it distributes a power over a product's factors and multiplies the
    exponents of a power of a power, so ``((3*x)**1000)**1000`` would be ``3**1000000 *
    x**1000000`` before any time limit could start."""
    import sympy

    if abs(exponent) > MAX_EXPONENT:
        raise _Reject(f"exponent {exponent} exceeds {MAX_EXPONENT} in absolute value")
    for factor in sympy.Mul.make_args(base):
        inner_base, inner_exponent = factor.as_base_exp()
        if not inner_exponent.is_Number:
            continue
        total = abs(inner_exponent * exponent)
        if inner_exponent != 1 and total > MAX_EXPONENT:
            raise _Reject(
                f"a power of a power with exponent {total} (over {MAX_EXPONENT} in absolute value)"
            )
        if inner_base.is_Number and inner_base != 0:
            digits = float(total) * abs(float(sympy.log(abs(inner_base), 10).evalf()))
            if digits > MAX_DIGITS:
                raise _Reject(f"a power with more than {MAX_DIGITS} digits")


class _SympyAlgebra:
    """Builds sympy expressions; numeric powers are bounded before they are formed, and
    every constant formed must be a finite real float64 (:func:`_checked`)."""

    def number(self, value):
        import sympy

        if isinstance(value, int):
            return _checked(sympy.Integer(value))
        if not math.isfinite(value):
            raise _Reject(f"number {value} is not finite")
        return sympy.Float(value)

    def constant(self, name):
        import sympy

        return {"pi": sympy.pi, "e": sympy.E, "E": sympy.E}[name]

    def binary(self, op, a, b):
        if op == "+":
            return _checked(a + b)
        if op == "-":
            return _checked(a - b)
        if op == "*":
            return _checked(a * b)
        if op == "/":
            return _checked(a / b)
        if b.is_Number:
            _bound_power(a, b)
        return _checked(a**b)

    def negate(self, a):
        return -a

    def call(self, name, arg):
        return _checked(_sympy_builder(FUNCTIONS[name][0])(arg))

    def finish(self, value):
        return check_real(value)


class _FloatAlgebra:
    """Evaluates in float arithmetic; every intermediate must be finite and real."""

    def number(self, value):
        try:
            return self._finite(float(value))
        except OverflowError:
            raise _Reject("a number is too large") from None

    def constant(self, name):
        return {"pi": math.pi, "e": math.e, "E": math.e}[name]

    def binary(self, op, a, b):
        if op == "+":
            return self._finite(a + b)
        if op == "-":
            return self._finite(a - b)
        if op == "*":
            return self._finite(a * b)
        if op == "/":
            if b == 0:
                raise _Reject("division by zero")
            return self._finite(a / b)
        if abs(b) > MAX_EXPONENT:
            raise _Reject(f"exponent {b:g} exceeds {MAX_EXPONENT} in absolute value")
        if a == 0 and b < 0:
            raise _Reject("zero raised to a negative power")
        try:
            result = a**b
        except OverflowError:
            raise _Reject(f"({a:g})**{b:g} is too large") from None
        if isinstance(result, complex):
            raise _Reject(f"({a:g})**{b:g} is not real")
        return self._finite(result)

    def negate(self, a):
        return -a

    def call(self, name, arg):
        try:
            return self._finite(float(FUNCTIONS[name][1](arg)))
        except (ValueError, OverflowError) as error:
            raise _Reject(f"{name}({arg:g}) is undefined or too large") from error

    def finish(self, value):
        return value

    @staticmethod
    def _finite(value):
        if not math.isfinite(value):
            raise _Reject("the value is not finite")
        return value


class _Reject(Exception):
    """Internal: ``(what, allowed)``, turned into an ExpressionError naming the text."""

    def __init__(self, what: str, allowed: str = "") -> None:
        super().__init__(what, allowed)
        self.what = what
        self.allowed = allowed


# --------------------------------------------------------------------------- walker
class _Walker:
    """Walks a whitelisted AST, building the result with ``algebra``."""

    def __init__(self, text: str, bound: Mapping[str, Any], algebra) -> None:
        self.text = text
        self.bound = bound
        self.algebra = algebra

    def part(self, node: ast.AST) -> str:
        segment = ast.get_source_segment(self.text, node) or type(node).__name__
        return _quote(segment, 40)

    def names_allowed(self) -> str:
        names = sorted(set(self.bound) | set(CONSTANTS))
        return ", ".join(names)

    def walk(self, node: ast.AST, depth: int = 0):
        if depth > MAX_DEPTH:
            raise _Reject(
                f"nesting deeper than {MAX_DEPTH} levels (a flat sum or product counts as one)",
                "simplify the expression",
            )
        if isinstance(node, ast.Constant):
            value = node.value
            if type(value) not in (int, float):
                raise _Reject(
                    f"constant {self.part(node)} is not allowed",
                    "only int and float numbers are allowed",
                )
            return self.algebra.number(value)
        if isinstance(node, ast.Name):
            return self.name(node)
        if isinstance(node, ast.BinOp) and type(node.op) in _OPERATORS:
            return self.chain(node, depth)
        if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
            operand = self.walk(node.operand, depth + 1)
            return self.algebra.negate(operand) if isinstance(node.op, ast.USub) else operand
        if isinstance(node, ast.Call):
            return self.call(node, depth)
        raise _Reject(
            f"{self.describe(node)} {self.part(node)} is not allowed", f"allowed: {_ALLOWED_SYNTAX}"
        )

    def chain(self, node: ast.BinOp, depth: int):
        """A left-nested run of one family (``+ -`` or ``* /``) as one level, walked in a loop.

        ``a + b - c`` parses as ``(a + b) - c``: the run's operands all sit one level below
        it, so a flat sum of n terms is 2 levels deep, not n. ``**`` is its own family of one.
        """
        family = _FAMILIES[type(node.op)]
        links = []
        while (
            isinstance(node, ast.BinOp)
            and type(node.op) in _OPERATORS
            and _FAMILIES[type(node.op)] == family
        ):
            links.append((_OPERATORS[type(node.op)], node.right))
            node = node.left
            if family == "power":
                break
        value = self.walk(node, depth + 1)
        for op, right in reversed(links):
            value = self.algebra.binary(op, value, self.walk(right, depth + 1))
        return value

    def name(self, node: ast.Name):
        name = node.id
        if name.startswith("_"):
            raise _Reject(f"name {name!r} is not allowed", "names may not start with '_'")
        if name in self.bound:
            return self.bound[name]
        if name in CONSTANTS:
            return self.algebra.constant(name)
        if name in FUNCTIONS:
            raise _Reject(f"function {name!r} must be called, as in {name}(x)")
        raise _Reject(f"unknown name {name!r}", f"allowed names: {self.names_allowed()}")

    def call(self, node: ast.Call, depth: int):
        func = node.func
        if not isinstance(func, ast.Name) or func.id not in FUNCTIONS:
            raise _Reject(
                f"call of {self.part(func)} is not allowed", f"functions: {', '.join(FUNCTIONS)}"
            )
        if node.keywords or len(node.args) != 1 or isinstance(node.args[0], ast.Starred):
            raise _Reject(f"{func.id}() takes exactly one positional argument")
        return self.algebra.call(func.id, self.walk(node.args[0], depth + 1))

    @staticmethod
    def describe(node: ast.AST) -> str:
        kinds = {
            ast.Attribute: "attribute access",
            ast.Subscript: "subscript",
            ast.Lambda: "lambda",
            ast.Tuple: "tuple",
            ast.List: "list",
            ast.Compare: "comparison",
            ast.BoolOp: "boolean operator",
            ast.BinOp: "operator",
            ast.UnaryOp: "operator",
        }
        return kinds.get(type(node), f"syntax {type(node).__name__}")


def _parse_tree(text: str) -> ast.expr:
    if not isinstance(text, str):
        raise ExpressionError(f"expression must be text, got {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise ExpressionError(
            f"expression {_quote(text, 30)} is {len(text)} characters long; "
            f"at most {MAX_LENGTH} are allowed"
        )
    if not text.strip():
        raise ExpressionError("expression is empty")
    try:
        tree = ast.parse(text.strip(), mode="eval").body
    except (SyntaxError, ValueError, RecursionError, MemoryError) as error:
        reason = getattr(error, "msg", None) or type(error).__name__
        raise ExpressionError(
            f"cannot parse {_quote(text)}: {reason}; allowed: {_ALLOWED_SYNTAX}"
        ) from None
    nodes = sum(isinstance(node, ast.expr) for node in ast.walk(tree))
    if nodes > MAX_NODES:
        raise ExpressionError(
            f"expression {_quote(text, 30)} has {nodes} parts (numbers, names, operations, "
            f"calls); at most {MAX_NODES} are allowed"
        )
    return tree


def _run(text: str, bound: Mapping[str, Any], algebra, allow_tuple: bool = False):
    tree = _parse_tree(text)
    walker = _Walker(text.strip(), bound, algebra)
    try:
        if allow_tuple and isinstance(tree, ast.Tuple):
            return tuple(algebra.finish(walker.walk(item, 1)) for item in tree.elts)
        return algebra.finish(walker.walk(tree))
    except _Reject as reason:
        allowed = f"; {reason.allowed}" if reason.allowed else ""
        raise ExpressionError(f"{reason.what} in {_quote(text)}{allowed}") from None
    except RecursionError:
        raise ExpressionError(f"expression {_quote(text)} is nested too deeply") from None


# --------------------------------------------------------------------------- public API
def _as_name_list(names: str | Iterable[str]) -> list[str]:
    if isinstance(names, str):
        names = names.replace(",", " ").split()
    return list(names)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def variable_name(name: str) -> str:
    """``name`` as Python reads an identifier (NFKC: fullwidth ``ｘ`` is ``x``), checked.

    A variable may not be a Python keyword, start with ``_``, or be a function or constant
    the expressions know (``exp``, ``abs``, ``pi``, ``e``, ...): in text it would be read
    as that function or constant. Raises :class:`ExpressionError` naming the reason.
    """
    if not isinstance(name, str):
        raise ExpressionError(f"variable names must be text; got {name!r}")
    normal = unicodedata.normalize("NFKC", name)
    shown = repr(name) if normal == name else f"{name!r} (read as {normal!r})"
    if not normal.isidentifier():
        reason = "use letters, digits and '_'"
    elif keyword.iskeyword(normal) or normal in ("True", "False", "None"):
        reason = "it is a Python keyword"
    elif normal.startswith("_"):
        reason = "names may not start with '_'"
    elif normal in FUNCTIONS:
        reason = f"it is the function {normal}()"
    elif normal in CONSTANTS:
        reason = f"it is the constant {normal}"
    else:
        return normal
    raise ExpressionError(f"{shown} cannot be a variable name: {reason}")


def symbols_for(names: str | Iterable[str]) -> tuple[sympy.Symbol, ...]:
    """Real sympy symbols for ``names`` (an iterable, or one string ``"w b"`` / ``"w,b"``).

    Each name is checked and normalized by :func:`variable_name`; two names that read the
    same (``x`` and fullwidth ``ｘ``) are refused.
    """
    import sympy

    listed = [variable_name(name) for name in _as_name_list(names)]
    _refuse_repeats(listed)
    return tuple(sympy.Symbol(name, real=True) for name in listed)


def variables_for(variables: str | Iterable[str | sympy.Symbol]) -> tuple[sympy.Symbol, ...]:
    """The variables in column order: names become real symbols (:func:`symbols_for`),
    sympy symbols are kept; no name may appear twice, at most ``MAX_VARIABLES``."""
    import sympy

    listed = _as_name_list(variables)
    if len(listed) > MAX_VARIABLES:
        raise ExpressionError(f"at most {MAX_VARIABLES} variables are allowed; got {len(listed)}")
    result = tuple(v if isinstance(v, sympy.Symbol) else symbols_for([v])[0] for v in listed)
    _refuse_repeats([v.name for v in result])
    return result


def _refuse_repeats(names: list[str]) -> None:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise ExpressionError(f"variable {name!r} is given twice (names are read as NFKC)")
        seen.add(name)


def parse_expression(
    text: str,
    variables: str | Iterable[str | sympy.Symbol] = (),
    names: Mapping[str, Any] | Iterable[str] = (),
) -> sympy.Expr:
    """The sympy expression of ``text`` in real ``variables``.

    ``names`` are further allowed names: a mapping ``name -> value`` (a number or sympy
    expression substituted as is) or an iterable of names that become real symbols.
    Raises :class:`ExpressionError` for anything outside the whitelist.

    >>> e = parse_expression("sigmoid(w*x + b)", variables=("w", "b"), names={"x": 2})
    >>> e
    sigmoid(b + 2*w)
    >>> import sympy
    >>> e.rewrite(sympy.exp)
    1/(exp(-b - 2*w) + 1)
    """
    bound: dict[str, Any] = {}
    if isinstance(names, Mapping):
        for name, value in names.items():
            number = _is_number(value)
            bound[variable_name(name)] = _SympyAlgebra().number(value) if number else value
    else:
        bound.update({s.name: s for s in symbols_for(_as_name_list(names))})
    for symbol in variables_for(variables):
        bound[symbol.name] = symbol
    return _run(text, bound, _SympyAlgebra())


def check_real(expression: sympy.Expr) -> sympy.Expr:
    """``expression`` itself if it is real-valued with finite float64 constants; otherwise
    :class:`ExpressionError` (a ``ValueError``) in one line.

    Refused: ``nan``, ``zoo`` or an infinity anywhere; a constant part that is not real
    (``I*x**2``, ``x**2 + sqrt(-1)``, ``log(-1)*x``) or not finite in float64
    (``1e309*x``, ``exp(1000)*x``). Checked on the largest constant subexpressions and on
    every number in the tree, so a coefficient folded by sympy is seen as well.
    """
    import sympy

    try:
        if expression.has(sympy.zoo, sympy.nan, sympy.oo, -sympy.oo):
            raise _Reject("the expression is undefined or infinite (division by zero?)")
        pending = [expression]
        while pending:  # the largest constant subtrees, then every number inside the rest
            node = pending.pop()
            if node.is_number:
                _real_float64(node)
            else:
                pending.extend(node.args)
    except _Reject as reason:
        allowed = f"; {reason.allowed}" if reason.allowed else ""
        raise ExpressionError(f"{reason.what} in {_quote(str(expression))}{allowed}") from None
    return expression


def evaluate(text: str, values: Mapping[str, float] | None = None) -> float | tuple[float, ...]:
    """The finite real value of ``text`` with named ``values``, e.g. ``"0.175*lr_opt"``.

    A flat top-level tuple such as ``"(0.9, 0.999)"`` gives a tuple of floats.

    >>> evaluate("0.5*lr_opt", {"lr_opt": 0.2})
    0.1
    """
    bound = {}
    for name, value in (values or {}).items():
        bound[variable_name(name)] = float(value)
    return _run(text, bound, _FloatAlgebra(), allow_tuple=True)


# --------------------------------------------------------------------------- non-smooth
def _nonsmooth_classes() -> tuple[type, ...]:
    import sympy

    return (
        sympy.Abs,
        sympy.sign,
        sympy.Heaviside,
        sympy.Max,
        sympy.Min,
        sympy.floor,
        sympy.ceiling,
        sympy.Piecewise,
    )


def nonsmooth_functions(expression: sympy.Expr) -> list[str]:
    """Names of the non-smooth functions in ``expression`` (``["Abs"]`` for ``abs(x)``)."""
    found = expression.atoms(*_nonsmooth_classes())
    return sorted({type(f).__name__ for f in found})


def drop_point_masses(derivative: sympy.Expr) -> sympy.Expr:
    """A derivative taken almost everywhere: every ``DiracDelta(...)`` term is set to 0.

    Differentiating a non-smooth function (``abs``) gives point masses on the set where it
    has a kink: ``d/dx |x| = sign(x)``, ``d^2/dx^2 |x| = 2 DiracDelta(x)``. Off that
    set (a null set) the derivative is the smooth one, so we keep it there and take the
    point mass as 0: ``d^2/dx^2 |x| = 0``, and at the kink itself ``sign(0) = 0``.
    """
    import sympy

    deltas = derivative.atoms(sympy.DiracDelta)
    return derivative.xreplace(dict.fromkeys(deltas, sympy.S.Zero)) if deltas else derivative
