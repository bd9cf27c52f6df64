"""Client options read from an ``openai.OpenAI`` / ``openai.AsyncOpenAI`` object.

The drop-in connection (:mod:`responses_ws.openai`) and the agents provider open a
:class:`~responses_ws.Client` that talks to the same endpoint, with the same credentials and
headers, as the SDK client they are given. Only public attributes of the SDK client are read.
"""

from __future__ import annotations

import urllib.parse
from typing import Any, Dict, Mapping, Optional, Tuple

# Headers the library writes itself (it refuses them in `headers`), and the ones it is told
# about through their own options.
_LIBRARY_HEADERS = frozenset({
    "host", "authorization", "upgrade", "connection", "content-length", "transfer-encoding",
    "content-type", "accept", "te", "trailer", "keep-alive", "openai-organization", "openai-project",
})


def _plain_headers(headers: Mapping[str, Any]) -> Dict[str, str]:
    """The str-valued headers a handshake can carry (the SDK marks removed ones with Omit)."""
    return {
        name: value for name, value in headers.items()
        if isinstance(value, str)
        and name.lower() not in _LIBRARY_HEADERS
        and not name.lower().startswith("sec-websocket-")
    }


def _milliseconds(seconds: Any) -> Optional[int]:
    """Seconds (int or float) as whole milliseconds; None for anything else (no limit given)."""
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
        return None
    return max(1, int(seconds * 1000))


def _timeouts(timeout: Any) -> Dict[str, int]:
    """``connect_timeout_ms`` and ``idle_timeout_ms`` from the SDK's timeout (a number, or an
    httpx ``Timeout`` with ``connect`` and ``read``): the read timeout bounds the wait for the
    next bytes, which over a WebSocket is the gap between two events."""
    connect: Any
    read: Any
    if isinstance(timeout, (int, float)) and not isinstance(timeout, bool):
        connect = read = timeout
    else:
        connect = getattr(timeout, "connect", None)
        read = getattr(timeout, "read", None)
    options: Dict[str, int] = {}
    connect_ms = _milliseconds(connect)
    if connect_ms is not None:
        options["connect_timeout_ms"] = connect_ms
    read_ms = _milliseconds(read)
    if read_ms is not None:
        options["idle_timeout_ms"] = read_ms
    return options


def _websocket_url(sdk_client: Any, extra_query: Optional[Mapping[str, Any]]) -> Optional[str]:
    """The URL the SDK's ``responses.connect()`` would open, when it differs from what the
    library derives from base_url itself (a websocket_base_url, or query parameters)."""
    ws_base = getattr(sdk_client, "websocket_base_url", None)
    query: Dict[str, Any] = {}
    query.update({k: v for k, v in (getattr(sdk_client, "default_query", None) or {}).items() if isinstance(v, (str, int, float))})
    query.update(extra_query or {})
    if ws_base is None and not query:
        return None
    if ws_base is not None:
        base = urllib.parse.urlsplit(str(ws_base))
    else:
        base = urllib.parse.urlsplit(str(sdk_client.base_url))
        base = base._replace(scheme="ws" if base.scheme == "http" else "wss")
    path = base.path.rstrip("/") + "/responses"
    merged = urllib.parse.parse_qsl(base.query, keep_blank_values=True)
    merged += [(str(k), "" if v is None else str(v)) for k, v in query.items()]
    return urllib.parse.urlunsplit(base._replace(path=path, query=urllib.parse.urlencode(merged)))


def client_arguments(
    sdk_client: Any,
    *,
    extra_query: Optional[Mapping[str, Any]] = None,
    extra_headers: Optional[Mapping[str, Any]] = None,
    overrides: Optional[Mapping[str, Any]] = None,
) -> Tuple[str, Optional[str], Dict[str, Any]]:
    """``(base_url, api_key, options)`` for ``Client(base_url, api_key, **options)``.

    Taken from the SDK client: base URL, WebSocket base URL, API key, organization, project,
    default headers (exactly those its own handshake sends, minus the ones the library writes
    itself) and timeouts; ``extra_headers``/``extra_query`` as ``connect()`` takes them; then
    ``overrides`` (any :class:`~responses_ws.Client` keyword option) win.
    """
    base_url = str(sdk_client.base_url).rstrip("/")
    api_key = getattr(sdk_client, "api_key", None)
    options: Dict[str, Any] = {}
    for name in ("organization", "project"):
        value = getattr(sdk_client, name, None)
        if isinstance(value, str) and value:
            options[name] = value
    headers = _plain_headers(getattr(sdk_client, "default_headers", None) or {})
    headers.update(_plain_headers(extra_headers or {}))
    if headers:
        options["headers"] = headers
    websocket_url = _websocket_url(sdk_client, extra_query)
    if websocket_url is not None:
        options["websocket_url"] = websocket_url
    options.update(_timeouts(getattr(sdk_client, "timeout", None)))
    options.update(overrides or {})
    return base_url, api_key if isinstance(api_key, str) and api_key else None, options
