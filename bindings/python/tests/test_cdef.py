"""The binding's cdef must declare exactly what include/responses_ws.h declares, with the same types and values."""

from __future__ import annotations

import re
from pathlib import Path

from cffi import FFI

from responses_ws import _ffi

HEADER = Path(__file__).resolve().parents[3] / "include" / "responses_ws.h"


def _header_as_cdef(text: str) -> str:
    """The header reduced to what cffi parses: no comments or preprocessor logic, integer macros evaluated."""
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    text = re.sub(r"//[^\n]*", "", text)
    text = re.sub(r"\\\n", " ", text)  # one line per macro
    values: dict = {}
    lines = []
    for line in text.splitlines():
        stripped = line.strip()
        define = re.match(r"#define\s+(RWS_\w+)\s+(.+)$", stripped)
        if define and "(" not in define.group(1):
            name, expr = define.groups()
            if name == "RWS_EXTERN" or expr.startswith(('"', "{")) or "__attribute__" in expr:  # not integers
                continue
            python_expr = re.sub(r"\b(\d+)u\b", r"\1", expr)
            values[name] = eval(python_expr, {"__builtins__": {}}, dict(values))  # header-only input
            lines.append(f"#define {name} {values[name]}")
            continue
        if stripped.startswith("#") or stripped in ('extern "C" {', "}") and "extern" in stripped:
            continue
        lines.append(line.replace("RWS_EXTERN ", ""))
    body = "\n".join(lines)
    body = re.sub(r'extern "C" \{', "", body)
    return body


def _declarations(ffi: FFI) -> dict:
    return dict(ffi._parser._declarations)  # cffi's parsed declarations: {"function rws_x": (type, quals), ...}


def _header_ffi() -> FFI:
    source = HEADER.read_text()
    # Drop the closing brace of the C++ guard, which appears alone inside #ifdef __cplusplus.
    source = re.sub(r"#ifdef __cplusplus\s*\}\s*#endif", "", source)
    ffi = FFI()
    ffi.cdef(_header_as_cdef(source))
    return ffi


def test_every_header_function_is_declared_with_the_same_signature() -> None:
    header = _declarations(_header_ffi())
    binding = _declarations(_ffi.ffi)
    functions = {k: v for k, v in header.items() if k.startswith("function ")}
    assert len(functions) >= 24, "the header parser found too few functions"
    exported = set(re.findall(r"RWS_EXTERN[^;(]*?\b(rws_\w+)\s*\(", HEADER.read_text()))
    assert {k.split()[1] for k in functions} == exported
    for key, (tp, _) in functions.items():
        assert key in binding, f"{key} is in the header but not in the binding's cdef"
        assert binding[key][0]._get_c_name() == tp._get_c_name(), key
    extra = {k for k in binding if k.startswith("function ")} - set(functions)
    assert not extra, f"declared in the cdef but not in the header: {extra}"


def test_structs_have_the_same_fields_types_and_layout() -> None:
    header_ffi = _header_ffi()
    names = [k.split()[1] for k in _declarations(header_ffi) if k.startswith("struct ")]
    complete = [n for n in names if n in ("rws_str", "rws_client_options", "rws_session_options",
                                           "rws_event", "rws_turn_options", "rws_turn_result", "rws_stats",
                                           "rws_steer_info")]
    assert len(complete) == 8
    for name in complete:
        ours, theirs = _ffi.ffi.typeof(name), header_ffi.typeof(name)
        assert [(f, t.type.cname) for f, t in ours.fields] == [(f, t.type.cname) for f, t in theirs.fields], name
        assert _ffi.ffi.sizeof(name) == header_ffi.sizeof(name), name


def test_every_constant_has_the_header_value() -> None:
    header = _header_ffi()._parser._int_constants
    binding = _ffi.ffi._parser._int_constants
    status_codes = [n for n in header if n.startswith("RWS_E_")]
    assert len(status_codes) == 31
    assert header == binding


def test_every_status_code_has_its_own_exception_class() -> None:
    import responses_ws

    header = _header_ffi()._parser._int_constants
    classes = {}
    for name in responses_ws.__all__:
        obj = getattr(responses_ws, name)
        if isinstance(obj, type) and issubclass(obj, responses_ws.ResponsesWSError) and obj.rws_status is not None:
            classes.setdefault(obj.rws_status, obj)
    for name, value in header.items():
        if name.startswith("RWS_E_"):
            assert value in classes, f"no exception class for {name}"
            assert responses_ws.error_for_status(value, "m").__class__ is classes[value]
