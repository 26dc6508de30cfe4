"""Turn pydantic validation errors into located, readable :class:`Problem` lines."""

from __future__ import annotations

import types
import typing
from typing import Any

from pydantic import BaseModel, ValidationError

from ..errors import Problem
from .schema import UNION_TAGS as _TAGS
from .yamlfile import Located, display_path

__all__ = ["problems_from"]


def _kind(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "nothing (null)"
    if isinstance(value, str):
        try:
            float(value)
        except ValueError:
            return repr(value)
        return value
    return repr(value)


def _unwrap(tp: Any) -> Any:
    """Strip Annotated and Optional/Union down to a model, list or dict type when present."""
    while True:
        origin = typing.get_origin(tp)
        if origin is typing.Annotated:
            tp = typing.get_args(tp)[0]
        elif origin in (typing.Union, types.UnionType):
            args = [_unwrap(a) for a in typing.get_args(tp) if a is not type(None)]
            structured = [a for a in args if _is_model(a) or typing.get_origin(a) in (list, dict)]
            tp = structured[0] if structured else args[0]
        else:
            return tp


def _is_model(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, BaseModel)


def _allowed_keys(root: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    tp: Any = root
    for part in loc:
        tp = _unwrap(tp)
        if _is_model(tp):
            fields = {info.alias or name: info for name, info in tp.model_fields.items()}
            if part not in fields:
                return []
            tp = fields[part].annotation
        elif typing.get_origin(tp) in (list, dict):
            tp = typing.get_args(tp)[-1]
        else:
            return []
    tp = _unwrap(tp)
    if not _is_model(tp):
        return []
    return [info.alias or name for name, info in tp.model_fields.items()]


_YAML_SPECIAL = {".nan", ".inf"}

_SIMPLE = {
    "float_parsing": "expected a number, got {input}",
    "float_type": "expected a number, got {input}",
    "int_parsing": "expected a whole number, got {input}",
    "int_type": "expected a whole number, got {input}",
    "int_from_float": "expected a whole number, got {input}",
    "string_type": "expected text, got {input}",
    "list_type": "expected a list, got {input}",
    "dict_type": "expected a mapping (key: value lines), got {input}",
    "model_type": "expected a mapping (key: value lines), got {input}",
    "model_attributes_type": "expected a mapping (key: value lines), got {input}",
    "bool_parsing": "expected true or false, got {input}",
    "date_from_datetime_parsing": "expected a date YYYY-MM-DD, got {input}",
    "date_parsing": "expected a date YYYY-MM-DD, got {input}",
    "date_type": "expected a date YYYY-MM-DD, got {input}",
    "finite_number": "must be a finite number, got {input}",
    "none_required": "expected nothing here, got {input}",
}


def _message(err: Any, root: type[BaseModel], loc: tuple[Any, ...]) -> str:
    kind, ctx = err["type"], err.get("ctx") or {}
    shown = _kind(err.get("input"))
    if kind == "float_parsing" and str(err.get("input")).lower().lstrip("+-") in _YAML_SPECIAL:
        return f"must be a finite number, got {err.get('input')}"
    if kind in _SIMPLE:
        return _SIMPLE[kind].format(input=shown)
    if kind == "missing":
        return f"required key '{loc[-1]}' is missing"
    if kind == "extra_forbidden":
        allowed = ", ".join(_allowed_keys(root, loc[:-1]))
        return f"unknown key '{loc[-1]}'; allowed keys: {allowed}"
    if kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        op = {
            "greater_than_equal": ">=",
            "greater_than": ">",
            "less_than_equal": "<=",
            "less_than": "<",
        }[kind]
        bound = next(iter(ctx.values()))
        return f"must be {op} {bound}, got {shown}"
    if kind == "literal_error":
        return f"must be one of {ctx.get('expected')}, got {shown}"
    if kind in ("too_short", "too_long"):
        return (
            f"{'needs at least' if kind == 'too_short' else 'allows at most'} "
            f"{ctx.get('min_length', ctx.get('max_length'))} item(s)"
        )
    msg = str(err["msg"])
    return msg.removeprefix("Value error, ")


def problems_from(error: ValidationError, located: Located, root: type[BaseModel]) -> list[Problem]:
    """One :class:`Problem` per pydantic error, placed at the offending key or value."""
    problems = []
    for err in error.errors(include_url=False):
        loc = tuple(p for p in err["loc"] if p not in _TAGS and p != "[key]")
        kind = err["type"]
        if kind == "missing":
            line, col = located.where(loc[:-1])
            path = display_path(located.data, loc[:-1])
        else:
            line, col = located.where(loc, key=kind == "extra_forbidden")
            path = display_path(located.data, loc)
        problems.append(Problem(located.file, line, col, path, _message(err, root, loc)))
    return problems
