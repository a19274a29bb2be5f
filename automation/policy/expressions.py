"""Safe conditions for the policy workbook, evaluated with simpleeval.

The language is a small, Python-shaped one over Chinese names:

- names: the form's field keys, parameters from 参数, and (范围 明细) the line's columns;
- ``== != < <= > >=``, ``in`` / ``not in`` a list such as ``("A", "B")``,
  ``and`` / ``or`` / ``not``, ``+ - * /`` and parentheses;
- calls of the functions in :mod:`automation.policy.functions` only.

Conveniences for people typing in Excel: a single ``=`` means ``==``, ``<>``
means ``!=``, and full-width brackets, commas and quotes are accepted.

Blank fields are ``None``. Any comparison with a blank is **false** (also
``!=`` and ``in``), and arithmetic with a blank gives a blank, so a rule never
fires because a field was left empty; use ``已填(x)`` / ``未填(x)`` to ask
about blanks. Numbers are ``Decimal`` (literals included), never float.
Attribute access, subscripts, ``**``, comprehensions and lambdas are refused
when the expression is compiled, before anything is evaluated.
"""

from __future__ import annotations

import ast
import operator as op
import threading
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any, Callable, Mapping

from simpleeval import DISALLOW_FUNCTIONS, FeatureNotAvailable, InvalidExpression, NameNotDefined, SimpleEval

from automation.errors import ExpressionError

MAX_LENGTH = 1000
MAX_NUMBER = Decimal("1e27")  # inputs stay below 1e12 (see forms.parsers), so products of two fit; stops runaway multiplication

_FULL_WIDTH = str.maketrans({"(": "(", ")": ")", ",": ",", "“": '"', "”": '"', "‘": "'", "’": "'", "!": "!",
                             "<": "<", ">": ">", "=": "="})
_ALLOWED_NODES = (
    ast.Expr, ast.Compare, ast.BoolOp, ast.And, ast.Or, ast.UnaryOp, ast.Not, ast.USub, ast.UAdd,
    ast.BinOp, ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Name, ast.Load, ast.Constant, ast.Call,
    ast.Tuple, ast.List, ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.In, ast.NotIn,
    ast.IfExp,
)
_NODE_NAMES = {
    ast.Attribute: "属性访问(.)", ast.Subscript: "下标([ ])", ast.Pow: "乘方(**)", ast.Lambda: "lambda",
    ast.ListComp: "推导式", ast.GeneratorExp: "推导式", ast.DictComp: "推导式", ast.SetComp: "推导式",
    ast.Dict: "字典", ast.Set: "集合", ast.JoinedStr: "f 字符串", ast.NamedExpr: "赋值(:=)",
    ast.Is: "is", ast.IsNot: "is not", ast.Mod: "取余(%)", ast.FloorDiv: "整除(//)",
}


def normalise_text(text: str) -> str:
    """Full-width punctuation → ASCII and ``=``/``<>`` → ``==``/``!=``, outside string literals."""
    out: list[str] = []
    quote: str | None = None
    chars = text.translate(_FULL_WIDTH)
    i = 0
    while i < len(chars):
        ch = chars[i]
        if quote:
            quote = None if ch == quote else quote
            out.append(ch)
        elif ch in "\"'":
            quote = ch
            out.append(ch)
        elif ch == "<" and chars[i + 1:i + 2] == ">":
            out.append("!=")
            i += 1
        elif ch == "=" and chars[i + 1:i + 2] != "=" and (not out or out[-1] not in "=!<>"):
            out.append("==")
        else:
            out.append(ch)
        i += 1
    return "".join(out)


@dataclass(frozen=True)
class Expr:
    """A compiled condition: parsed and checked once, evaluated many times."""

    text: str
    where: str
    node: Any = field(repr=False, compare=False)
    names: frozenset[str] = frozenset()
    functions: frozenset[str] = frozenset()
    # every name the expression mentions (a function's name may be read as a name too): only
    # these are converted for an evaluation, not every field of the form
    mentioned: frozenset[str] = field(default=frozenset(), repr=False, compare=False)

    @property
    def always(self) -> bool:
        return self.node is None

    def evaluate(self, names: Mapping[str, Any], functions: Mapping[str, Callable]) -> Any:
        if self.node is None:
            return True
        evaluator = _evaluator_for(functions)
        evaluator.names = {k: to_decimal(names[k]) for k in self.mentioned if k in names}
        evaluator.busy = True
        try:
            # simpleeval's evaluator over the vetted tree, not Python's eval: only the allowed
            # operators, names and functions can run.
            return evaluator.eval(self.text, previously_parsed=self.node)
        except NameNotDefined as exc:
            raise ExpressionError(f"条件中的名称「{exc.name}」没有定义。", location=self.where) from exc
        except InvalidExpression as exc:
            raise ExpressionError(f"条件无法计算:{exc}", location=self.where) from exc
        except (TypeError, ValueError, ArithmeticError) as exc:
            raise ExpressionError(f"条件「{self.text}」计算出错:类型不匹配或数值无效({exc})。", location=self.where) from exc
        finally:
            evaluator.busy = False
            evaluator.names = {}

    def holds(self, names: Mapping[str, Any], functions: Mapping[str, Callable]) -> bool:
        return bool(self.evaluate(names, functions))


def compile_expression(text: str | None, where: str) -> Expr:
    """Parse and vet a condition; a blank condition always holds.

    An Expr is immutable, so each (text, place) is parsed once per process: the policy's load
    and its lint read the same rows, and a spec's ``compute:`` or a message's ``{函数(…)}`` is
    asked for again by every form. A faulty condition is not remembered: it raises each time,
    with the same message."""
    raw = "" if text is None else str(text).strip()
    return _compiled(raw, where)


@lru_cache(maxsize=4096)
def _compiled(raw: str, where: str) -> Expr:
    if not raw:
        return Expr(text="", where=where, node=None)
    if len(raw) > MAX_LENGTH:
        raise ExpressionError(f"条件过长(超过 {MAX_LENGTH} 个字符),请拆成几行规则。", location=where)
    source = normalise_text(raw)
    try:
        tree = ast.parse(source, mode="exec")
    except SyntaxError as exc:
        raise ExpressionError(f"条件「{raw}」写法有误(第 {exc.offset or 0} 个字符附近),请检查括号、引号和运算符。",
                              location=where) from exc
    if len(tree.body) != 1 or not isinstance(tree.body[0], ast.Expr):
        raise ExpressionError(f"条件「{raw}」应是一个表达式(不能赋值或写多条语句)。", location=where)
    names, functions = _vet(tree.body[0], raw, where)
    return Expr(text=source, where=where, node=tree.body[0], names=frozenset(names), functions=frozenset(functions),
                mentioned=frozenset(n.id for n in ast.walk(tree.body[0]) if isinstance(n, ast.Name)))


def _vet(root: ast.AST, raw: str, where: str) -> tuple[set[str], set[str]]:
    names: set[str] = set()
    functions: set[str] = set()
    for node in ast.walk(root):
        if not isinstance(node, _ALLOWED_NODES):
            what = _NODE_NAMES.get(type(node), type(node).__name__)
            raise ExpressionError(f"条件「{raw}」中不允许使用{what}。", location=where)
        if isinstance(node, ast.Name) and node.id.startswith("_"):
            raise ExpressionError(f"条件「{raw}」中不允许以下划线开头的名称「{node.id}」。", location=where)
        if isinstance(node, ast.Call):
            if not isinstance(node.func, ast.Name) or node.keywords:
                raise ExpressionError(f"条件「{raw}」中只能直接调用函数,例如 已填(客户名称)。", location=where)
            functions.add(node.func.id)
        elif isinstance(node, ast.Name):
            names.add(node.id)
        elif isinstance(node, ast.Constant) and not isinstance(node.value, (int, float, str, bool, type(None))):
            raise ExpressionError(f"条件「{raw}」中含不支持的常量。", location=where)
    return names - functions, functions


# --- evaluation --------------------------------------------------------------


def to_decimal(value: Any) -> Any:
    """Floats never enter an expression: they become the Decimal they print as."""
    if isinstance(value, float):
        return Decimal(repr(value))
    return value


def _number(value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (int, Decimal)):
        raise TypeError(f"「{value}」不是数值")
    result = Decimal(value)
    if abs(result) > MAX_NUMBER:
        raise ValueError("数值超出允许范围")
    return result


def _arith(fn: Callable[[Decimal, Decimal], Decimal]) -> Callable[[Any, Any], Any]:
    def apply(a: Any, b: Any) -> Any:
        if a is None or b is None:
            return None
        try:
            return _number(fn(_number(a), _number(b)))
        except (ZeroDivisionError, InvalidOperation):
            return None  # x / 0 behaves like a blank: every comparison with it is false

    return apply


def _compare(fn: Callable[[Any, Any], bool]) -> Callable[[Any, Any], bool]:
    def apply(a: Any, b: Any) -> bool:
        if a is None or b is None:
            return False
        if isinstance(a, date) != isinstance(b, date):
            raise TypeError(f"不能比较日期与非日期:{a!r} 与 {b!r}")
        return fn(a, b)

    return apply


def _contains(a: Any, b: Any) -> bool:
    return a is not None and b is not None and a in b


def _not_contains(a: Any, b: Any) -> bool:
    return a is not None and b is not None and a not in b


def _negate(a: Any) -> Any:
    return None if a is None else -_number(a)


OPERATORS = {
    ast.Add: _arith(op.add), ast.Sub: _arith(op.sub), ast.Mult: _arith(op.mul), ast.Div: _arith(op.truediv),
    ast.Eq: _compare(op.eq), ast.NotEq: _compare(op.ne), ast.Lt: _compare(op.lt), ast.LtE: _compare(op.le),
    ast.Gt: _compare(op.gt), ast.GtE: _compare(op.ge), ast.In: _contains, ast.NotIn: _not_contains,
    ast.Not: op.not_, ast.USub: _negate, ast.UAdd: lambda a: a,
}


_last = threading.local()


def _evaluator_for(functions: Mapping[str, Callable]) -> "_Evaluator":
    """The evaluator of this thread's last evaluation when it is not in the middle of one (a
    function calling back into a condition), given these functions; otherwise a new one. Making
    one costs ≈ 16 µs (SimpleEval sets up its node table and vets every function), about as much
    as evaluating a short condition."""
    evaluator = getattr(_last, "evaluator", None)
    if evaluator is None or evaluator.busy:
        evaluator = _Evaluator(names={}, functions=functions)
        _last.evaluator = evaluator
    elif evaluator.functions is not functions:
        # each form binds its own functions: the idle evaluator takes them, vetted as SimpleEval's
        # constructor would (a call is vetted again when it runs)
        _vet_functions(functions)
        evaluator.functions = functions
    return evaluator


def _vet_functions(functions: Mapping[str, Callable]) -> None:
    for f in functions.values():
        if f in DISALLOW_FUNCTIONS:
            raise FeatureNotAvailable(f"This function {f} is a really bad idea.")


class _Evaluator(SimpleEval):
    """SimpleEval with our operators, Decimal literals and tuple/list literals for ``in``."""

    def __init__(self, names: dict, functions: dict):
        super().__init__(operators=dict(OPERATORS), functions=functions, names=names)
        self.busy = False
        self.nodes[ast.Tuple] = lambda node: tuple(self._eval(x) for x in node.elts)
        self.nodes[ast.List] = lambda node: tuple(self._eval(x) for x in node.elts)
        self.nodes[ast.Constant] = self._constant

    @staticmethod
    def _constant(node: ast.Constant) -> Any:
        return to_decimal(node.value)
