"""responses_ws: a warm transport for the OpenAI Responses API WebSocket mode.

Python binding of ``libresponsesws`` (cffi, ABI mode)::

    from responses_ws import Client

    with Client(base_url="http://127.0.0.1:8080/v1", api_key="sk-...") as client:
        with client.session() as session:
            for event in session.create(model="gpt-5.6", input="Hello", store=False):
                if event.delta:
                    print(event.delta, end="")
"""

from typing import Any

from ._ffi import HAS_BATCHED_PULL, LIBRARY_ENV, ffi, lib
from .aio import AsyncClient, AsyncSession
from .client import Client, Request, Session, Stats
from .errors import *  # noqa: F401,F403 - the exception classes, listed in errors.__all__
from .errors import __all__ as _error_names
from .events import Event, EventType
from .params import ResponseCreateParams
from .turn import Steer, SteerInfo, SteerInput, SteerState, Transport, Turn, TurnFlags, TurnResult

__version__ = "0.5.0"


# The SDK adapters import the openai / openai-agents SDKs, so they load only when first used:
# `responses_ws.openai.connect(...)` works after a plain `import responses_ws`.
_LAZY_SUBMODULES = ("openai", "agents")


def __getattr__(name: str) -> Any:
    if name in _LAZY_SUBMODULES:
        import importlib

        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def library_version() -> str:
    """The version of the loaded libresponsesws as ``"MAJOR.MINOR.PATCH"``."""
    return str(ffi.string(lib.rws_version()).decode())


def library_features() -> int:
    """The ``RWS_FEATURE_*`` bits of the loaded library (1: TLS, 2: pull, 4: HTTP/SSE)."""
    return int(lib.rws_features())


__all__ = [
    "Client",
    "Session",
    "AsyncClient",
    "AsyncSession",
    "Turn",
    "TurnResult",
    "TurnFlags",
    "Transport",
    "Steer",
    "SteerInfo",
    "SteerInput",
    "SteerState",
    "Event",
    "EventType",
    "Stats",
    "Request",
    "ResponseCreateParams",
    "LIBRARY_ENV",
    "HAS_BATCHED_PULL",
    "library_version",
    "library_features",
    *_error_names,
]
