"""Conversion to the ``openai`` SDK's types, imported only when first asked for.

The SDK (and pydantic) is optional and heavy to import, so nothing here runs at package import.
A pydantic ``TypeAdapter`` builds its validator once; they are cached for the process.
"""

from __future__ import annotations

import importlib
import threading
from typing import Any, List, Optional

_lock = threading.Lock()
_event_adapters: Optional[List[Any]] = None
_response_type: Any = None


def _import_error(error: ImportError) -> ImportError:
    return ImportError(
        f"responses_ws: to_openai() needs the openai SDK ({error}); install it with "
        "`pip install openai` (or `pip install responses-ws[openai]`)"
    )


def _optional(module: str) -> Any:
    """Imports an optional dependency by name (so type checkers without it installed pass too)."""
    try:
        return importlib.import_module(module)
    except ImportError as error:
        raise _import_error(error) from error


def _adapters() -> List[Any]:
    """The event validators: ResponseStreamEvent first, then the WebSocket-only event union."""
    global _event_adapters
    if _event_adapters is None:
        with _lock:
            if _event_adapters is None:
                pydantic = _optional("pydantic")
                responses = _optional("openai.types.responses")
                unions = [responses.ResponseStreamEvent]
                websocket_union = getattr(responses, "ResponsesServerEvent", None)  # newer SDKs only
                if websocket_union is not None:
                    unions.append(websocket_union)
                _event_adapters = [pydantic.TypeAdapter(union) for union in unions]
    return _event_adapters


def validate_event(raw: bytes) -> Any:
    """The SDK event object for one event's JSON; raises pydantic's ValidationError if no union fits."""
    adapters = _adapters()
    first_error: Optional[Exception] = None
    for adapter in adapters:
        try:
            return adapter.validate_json(raw)
        except ValueError as error:  # pydantic.ValidationError is a ValueError
            if first_error is None:
                first_error = error
    assert first_error is not None
    raise first_error


def validate_response(raw: bytes) -> Any:
    """The SDK ``Response`` object for a final response's JSON."""
    global _response_type
    if _response_type is None:
        _response_type = _optional("openai.types.responses").Response
    return _response_type.model_validate_json(raw)
