"""Typed request fields for :meth:`Session.create`, shaped like ``client.responses.create``.

These are ``TypedDict`` s, so a type checker (``mypy --strict``) rejects a misspelt field or a
value of the wrong type at the call site, while at run time they are plain dicts encoded as JSON.
The top-level fields and small closed objects (``reasoning``, ``text``) are checked exactly.
Input items and tools are open-ended in the API (dozens of item and tool types), so their unions
end with ``Mapping[str, Any]``: the common shapes are spelled out for editors and readers, and
anything else (an item copied from an earlier response, a hosted tool) is accepted as it is.
Fields this module does not know yet go in ``extra_body``, as with the SDK.
"""

from __future__ import annotations

import sys
from typing import Any, Dict, List, Mapping, Optional, Sequence, Union

if sys.version_info >= (3, 11):
    from typing import Literal, Required, TypedDict
else:  # Required/NotRequired (and a TypedDict that knows them) came with Python 3.11
    from typing_extensions import Literal, Required, TypedDict

__all__ = [
    "ResponseCreateParams",
    "InputItem",
    "InputMessage",
    "InputText",
    "InputImage",
    "InputFile",
    "FunctionCallItem",
    "FunctionCallOutputItem",
    "ItemReference",
    "Tool",
    "FunctionTool",
    "ToolChoice",
    "ToolChoiceFunction",
    "Reasoning",
    "TextConfig",
    "TextFormat",
]

# --- input ---------------------------------------------------------------------------------------


class InputText(TypedDict):
    """A text part of a message's ``content``."""

    type: Literal["input_text"]
    text: str


class InputImage(TypedDict, total=False):
    """An image part: by URL (or data URL) or by uploaded file id."""

    type: Required[Literal["input_image"]]
    image_url: Optional[str]
    file_id: Optional[str]
    detail: Literal["low", "high", "auto"]


class InputFile(TypedDict, total=False):
    """A file part: uploaded file id, URL, or inline data with a file name."""

    type: Required[Literal["input_file"]]
    file_id: Optional[str]
    file_url: str
    file_data: str
    filename: str


ContentPart = Union[InputText, InputImage, InputFile, Mapping[str, Any]]


class InputMessage(TypedDict, total=False):
    """A message of the conversation (``"type": "message"`` may be left out)."""

    role: Required[Literal["user", "assistant", "system", "developer"]]
    content: Required[Union[str, Sequence[ContentPart]]]
    type: Literal["message"]


class FunctionCallItem(TypedDict, total=False):
    """A function call the model made, sent back as context (full-history mode)."""

    type: Required[Literal["function_call"]]
    call_id: Required[str]
    name: Required[str]
    arguments: Required[str]
    id: str
    status: Literal["in_progress", "completed", "incomplete"]


class FunctionCallOutputItem(TypedDict, total=False):
    """The result of a function call, answering the model's ``call_id``."""

    type: Required[Literal["function_call_output"]]
    call_id: Required[str]
    output: Required[Union[str, Sequence[ContentPart]]]
    id: Optional[str]
    status: Optional[Literal["in_progress", "completed", "incomplete"]]


class ItemReference(TypedDict, total=False):
    """An earlier item, by id."""

    id: Required[str]
    type: Optional[Literal["item_reference"]]


#: One input item: the shapes above, or any other item object of the API.
InputItem = Union[InputMessage, FunctionCallOutputItem, FunctionCallItem, ItemReference, Mapping[str, Any]]

# --- tools -------------------------------------------------------------------------------------


class FunctionTool(TypedDict, total=False):
    """A function the model may call; ``parameters`` is a JSON Schema object."""

    type: Required[Literal["function"]]
    name: Required[str]
    parameters: Required[Optional[Dict[str, Any]]]
    strict: Optional[bool]
    description: Optional[str]


#: A tool: a function, or any hosted tool object (web_search, file_search, mcp, ...).
Tool = Union[FunctionTool, Mapping[str, Any]]


class ToolChoiceFunction(TypedDict):
    """Forces a call of the named function."""

    type: Literal["function"]
    name: str


#: ``"none"``, ``"auto"``, ``"required"``, a function, or another tool-choice object.
ToolChoice = Union[Literal["none", "auto", "required"], ToolChoiceFunction, Mapping[str, Any]]

# --- small closed objects ------------------------------------------------------------------------


class Reasoning(TypedDict, total=False):
    """Reasoning options of reasoning models."""

    effort: Optional[Literal["none", "minimal", "low", "medium", "high", "xhigh", "max"]]
    summary: Optional[Literal["auto", "concise", "detailed"]]
    generate_summary: Optional[Literal["auto", "concise", "detailed"]]


class TextFormat(TypedDict, total=False):
    """The output format: ``{"type": "text"}``, ``{"type": "json_object"}``, or a JSON Schema."""

    type: Required[Literal["text", "json_object", "json_schema"]]
    name: str
    schema: Dict[str, Any]
    description: str
    strict: Optional[bool]


class TextConfig(TypedDict, total=False):
    """Options of the text output."""

    format: TextFormat
    verbosity: Optional[Literal["low", "medium", "high"]]


Includable = Literal[
    "file_search_call.results",
    "web_search_call.results",
    "web_search_call.action.sources",
    "message.input_image.image_url",
    "computer_call_output.output.image_url",
    "code_interpreter_call.outputs",
    "reasoning.encrypted_content",
    "message.output_text.logprobs",
]

# --- the request -------------------------------------------------------------------------------


class ResponseCreateParams(TypedDict, total=False):
    """The keyword arguments of :meth:`Session.create`: the body fields of ``POST /v1/responses``
    that ``client.responses.create`` takes, minus ``stream`` (a turn always streams), plus the
    WebSocket-mode fields ``stream_id`` and ``generate``.

    Only the fields given are sent; the session's defaults fill in the rest and the session adds
    ``previous_response_id`` when the request has none.
    """

    model: str
    input: Union[str, Sequence[InputItem]]
    instructions: Optional[str]
    tools: Sequence[Tool]
    tool_choice: ToolChoice
    parallel_tool_calls: Optional[bool]
    max_tool_calls: Optional[int]
    previous_response_id: Optional[str]
    conversation: Optional[Union[str, Mapping[str, Any]]]
    store: Optional[bool]
    background: Optional[bool]  # the library refuses true (UnsupportedError)
    temperature: Optional[float]
    top_p: Optional[float]
    top_logprobs: Optional[int]
    max_output_tokens: Optional[int]
    metadata: Optional[Dict[str, str]]
    reasoning: Optional[Reasoning]
    text: TextConfig
    truncation: Optional[Literal["auto", "disabled"]]
    include: Optional[List[Includable]]
    prompt: Optional[Mapping[str, Any]]
    prompt_cache_key: Optional[str]
    prompt_cache_retention: Optional[Literal["in_memory", "24h"]]
    safety_identifier: Optional[str]
    service_tier: Optional[Literal["auto", "default", "flex", "scale", "priority"]]
    user: str
    stream_options: Optional[Mapping[str, Any]]
    context_management: Optional[Sequence[Mapping[str, Any]]]
    #: WebSocket mode only: must equal the session's lane (set it with ``Client.session(stream_id=...)``).
    stream_id: str
    #: WebSocket mode only: ``False`` prepares the chain without running the model.
    generate: bool
    #: More body fields, merged in as they are (like the SDK's ``extra_body``).
    extra_body: Mapping[str, Any]


def request_body(params: Mapping[str, Any]) -> Dict[str, Any]:
    """The JSON body for keyword arguments of :meth:`Session.create` (``extra_body`` merged in)."""
    body = dict(params)
    extra = body.pop("extra_body", None)
    if extra:
        body.update(extra)
    return body
