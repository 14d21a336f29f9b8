"""Hypothesis strategies from the JSON Schemas our pydantic models export.

Covers the parts of JSON Schema the contracts use ($ref, anyOf, enum, const, string patterns,
lengths and formats, integer and number bounds, arrays, objects); anything else fails loudly
so a new construct in a contract gets a generator instead of silently weaker tests.
"""

from __future__ import annotations

from datetime import UTC
from typing import Any

from hypothesis import strategies as st

FORMATS: dict[str, st.SearchStrategy[str]] = {
    "uuid": st.uuids().map(str),
    "date-time": st.datetimes(timezones=st.just(UTC)).map(lambda d: d.isoformat()),
    "time": st.times().map(lambda t: t.isoformat()),
    "date": st.dates().map(lambda d: d.isoformat()),
}


def from_model_schema(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    return _from(schema, schema.get("$defs", {}))


def _from(schema: dict[str, Any], defs: dict[str, Any]) -> st.SearchStrategy[Any]:
    if "$ref" in schema:
        return _from(defs[schema["$ref"].rsplit("/", 1)[-1]], defs)
    if "anyOf" in schema:
        return st.one_of([_from(option, defs) for option in schema["anyOf"]])
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    if "const" in schema:
        return st.just(schema["const"])
    kind = schema.get("type")
    if kind == "string":
        return _string(schema)
    if kind == "integer":
        return st.integers(schema.get("minimum"), schema.get("maximum"))
    if kind == "number":
        return st.floats(
            schema.get("minimum"), schema.get("maximum"), allow_nan=False, allow_infinity=False
        )
    if kind == "boolean":
        return st.booleans()
    if kind == "null":
        return st.none()
    if kind == "array":
        return st.lists(
            _from(schema["items"], defs), min_size=schema.get("minItems", 0), max_size=4
        )
    if kind == "object":
        return _object(schema, defs)
    raise NotImplementedError(f"no generator for JSON Schema {schema}")


def _string(schema: dict[str, Any]) -> st.SearchStrategy[str]:
    if "format" in schema:
        return FORMATS[schema["format"]]
    low = schema.get("minLength", 0)
    if "pattern" in schema:
        longest = schema.get("maxLength", 10_000)
        return st.from_regex(schema["pattern"], fullmatch=True).filter(lambda s: len(s) <= longest)
    high = schema.get("maxLength", 50)
    # stripped-whitespace fields must still be non-empty after stripping
    return st.text(
        st.characters(codec="utf-8", exclude_categories=["Cs", "Z", "Cc"]),
        min_size=max(low, 0),
        max_size=high,
    ).filter(lambda s: len(s) >= low)


def _object(schema: dict[str, Any], defs: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    required = set(schema.get("required", []))
    fields = {name: _from(sub, defs) for name, sub in schema.get("properties", {}).items()}
    return st.fixed_dictionaries(
        {k: v for k, v in fields.items() if k in required},
        optional={k: v for k, v in fields.items() if k not in required},
    )
