"""Turn a loaded Document into a strict model, mapping pydantic errors to located diagnostics."""

from __future__ import annotations

import difflib
import types
import typing
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from spbe_kit.errors import Diagnostic, InvalidInput, KeyPath, Said
from spbe_kit.load import MISSING, Document, step
from spbe_kit.models.base import DURATION_PATTERN

M = TypeVar("M", bound=BaseModel)

_PROBLEM_ID = {
    "string_type": "harus berupa teks",
    "int_type": "harus bilangan bulat",
    "int_parsing": "harus bilangan bulat",
    "int_from_float": "harus bilangan bulat",
    "float_type": "harus bilangan",
    "float_parsing": "harus bilangan",
    "bool_type": "harus true atau false",
    "bool_parsing": "harus true atau false",
    "date_type": "harus tanggal YYYY-MM-DD",
    "date_parsing": "harus tanggal YYYY-MM-DD",
    "date_from_datetime_parsing": "harus tanggal YYYY-MM-DD",
    "dict_type": "harus berupa pemetaan (kunci: nilai)",
    "model_type": "harus berupa pemetaan (kunci: nilai)",
    "model_attributes_type": "harus berupa pemetaan (kunci: nilai)",
    "list_type": "harus berupa daftar",
    "string_pattern_mismatch": "bentuknya tidak sesuai",
    # The only custom validator: a number given as a date (base.Date).
    "value_error": "tanggal ditulis YYYY-MM-DD, bukan angka",
}


# Patterns people meet in a profile, said in words rather than as a regular expression.
_PATTERN_SAYS = {
    DURATION_PATTERN: Said(
        "should be a length of time such as 30s, 30m, 1h, 26h or 7d",
        "harus panjang waktu seperti 30s, 30m, 1h, 26h atau 7d",
    ),
}


def parse_model(doc: Document, model: type[M], prefix: str) -> M:
    """Validate ``doc.data`` into ``model``; every problem becomes one located diagnostic."""
    try:
        return model.model_validate(doc.data)
    except ValidationError as exc:
        raise InvalidInput(errors_to_diagnostics(doc, model, exc, prefix)) from None


def errors_to_diagnostics(
    doc: Document, model: type[BaseModel], exc: ValidationError, prefix: str
) -> list[Diagnostic]:
    seen: set[tuple[str, KeyPath]] = set()
    found: list[Diagnostic] = []
    for error in exc.errors(include_url=False):
        path = _data_path(doc.data, error["loc"])
        diag = _diagnostic(doc, model, error, path, prefix)
        if (diag.code, diag.key_path) not in seen:
            seen.add((diag.code, diag.key_path))
            found.append(diag)
    return found


def _diagnostic(doc: Document, model: type[BaseModel], error: Any, path: KeyPath, prefix: str) -> Diagnostic:
    kind = error["type"]
    if kind == "extra_forbidden":
        key = str(path[-1]) if path else ""
        allowed = allowed_keys(model, path[:-1])
        return doc.diagnostic(f"{prefix}-unknown-key", path, key=key, **_suggest(key, allowed))
    if kind == "missing":
        key = str(error["loc"][-1])
        # Named by its full key path, located at the parent that lacks it.
        return doc.diagnostic(f"{prefix}-missing-key", path or (key,), key=key)
    if isinstance(error.get("input"), str) and error["input"].strip() == "ISI":
        return doc.diagnostic("placeholder-unfilled", path)  # a field init left to fill in
    if kind == "literal_error" and path == ("schema",):
        return doc.diagnostic(f"{prefix}-schema", path, found=error.get("input"))
    pattern = (error.get("ctx") or {}).get("pattern")
    if kind == "string_pattern_mismatch" and pattern in _PATTERN_SAYS:
        return doc.diagnostic(
            f"{prefix}-invalid-value", path, problem=_PATTERN_SAYS[pattern], found=_short(error.get("input"))
        )
    problem_id = _PROBLEM_ID.get(kind, error["msg"])
    if kind == "literal_error":
        problem_id = f"harus salah satu dari {error['ctx']['expected']}".replace(" or ", " atau ")
    return doc.diagnostic(
        f"{prefix}-invalid-value",
        path,
        problem=Said(error["msg"], problem_id),
        found=_short(error.get("input")),
    )


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _suggest(key: str, allowed: list[str]) -> dict[str, Said]:
    close = difflib.get_close_matches(key, allowed, n=1)
    listing = ", ".join(allowed)
    if close:
        return {
            "suggestion": Said(
                f"did you mean '{close[0]}'? allowed: {listing}",
                f"maksud Anda '{close[0]}'? yang diizinkan: {listing}",
            )
        }
    return {"suggestion": Said(f"allowed: {listing}", f"yang diizinkan: {listing}")}


def _data_path(data: Any, loc: tuple[int | str, ...]) -> KeyPath:
    """Pydantic locations also name union members; keep only the parts present in the data."""
    path: list[str | int] = []
    current = data
    for part in loc:
        found = step(current, part)
        if found is not MISSING:
            current = found
            path.append(part)
        elif isinstance(current, dict) and isinstance(part, str) and path[-1:] != [part]:
            # A missing key or a key pydantic names by alias: keep it so the message names it.
            if part not in ("bool", "int", "str", "float", "[key]"):
                path.append(part)
            current = None
    return tuple(path)


def allowed_keys(model: type[BaseModel], path: KeyPath) -> list[str]:
    """The field names (aliases where given) accepted at ``path`` inside ``model``."""
    target: Any = model
    for part in path:
        target = _descend(target, part)
        if target is None:
            return []
    target = _unwrap(target)
    if isinstance(target, type) and issubclass(target, BaseModel):
        return [f.alias or name for name, f in target.model_fields.items()]
    return []


def _descend(annotation: Any, part: str | int) -> Any:
    annotation = _unwrap(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        for name, field in annotation.model_fields.items():
            if part in (name, field.alias):
                return field.annotation
        return None
    args = typing.get_args(annotation)
    origin = typing.get_origin(annotation)
    if origin is dict and len(args) == 2:
        return args[1]
    if origin is list and args:
        return args[0]
    return None


def _unwrap(annotation: Any) -> Any:
    """Optional[X] -> X, so a model inside ``X | None`` is found."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        members = [a for a in typing.get_args(annotation) if a is not type(None)]
        models = [a for a in members if isinstance(a, type) and issubclass(a, BaseModel)]
        if len(models) == 1:
            return models[0]
    return annotation
