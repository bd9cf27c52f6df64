"""The openai SDK's event objects, built as the SDK builds them, without its union search.

The SDK turns an event's JSON into its object with ``construct_type(type_=<the event union>)``:
it validates the value against the whole union (pydantic tries the variants, about 60, which
costs ~150 µs an event), and on failure constructs the variant the ``type`` field names. Every
variant of the union has a distinct ``Literal`` ``type``, so only the variant the ``type`` names
can validate: validating that variant alone gives the same object at a fraction of the cost.
Anything else (an unknown type, data that does not validate) goes to the SDK's own
``construct_type``, so the result is always what the SDK would have built.
"""

from __future__ import annotations

import typing
from typing import Any, Callable, Dict, Mapping, Optional

Parser = Callable[[Mapping[str, Any]], Any]


def _variants_by_type(union_alias: Any) -> Optional[Dict[str, Any]]:
    """``{type literal: variant class}``, or None when some variant's ``type`` is not a single
    distinct literal (then the fast path could pick another class than the SDK, so none is used)."""
    union = typing.get_args(union_alias)[0] if typing.get_origin(union_alias) is typing.Annotated else union_alias
    by_type: Dict[str, Any] = {}
    for variant in typing.get_args(union):
        field = getattr(variant, "model_fields", {}).get("type")
        if field is None or typing.get_origin(field.annotation) is not typing.Literal:
            return None
        for literal in typing.get_args(field.annotation):
            if not isinstance(literal, str) or literal in by_type:
                return None
            by_type[literal] = variant
    return by_type or None


def parser_for(union_alias: Any) -> Parser:
    """A function from an event's decoded JSON to the SDK object for ``union_alias`` (e.g.
    ``openai.types.responses.ResponsesServerEvent``)."""
    from openai._models import construct_type

    def sdk(value: Mapping[str, Any]) -> Any:
        return construct_type(type_=union_alias, value=dict(value))

    by_type = _variants_by_type(union_alias)
    if by_type is None:
        return sdk

    def parse(value: Mapping[str, Any]) -> Any:
        variant = by_type.get(value.get("type"))  # type: ignore[arg-type]
        if variant is not None:
            try:
                return variant.model_validate(value)
            except ValueError:  # pydantic's ValidationError: let the SDK construct it loosely
                pass
        return sdk(value)

    return parse
