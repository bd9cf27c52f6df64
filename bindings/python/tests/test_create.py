"""session.create(**params) takes client.responses.create's keyword arguments, checked by mypy."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import responses_ws as rws
from conftest import TOOLS

MODEL = {"model": "gpt-5.6", "store": False}


def test_create_runs_a_turn_like_turn(client: rws.Client) -> None:
    with client.session() as session:
        text = session.create(model="gpt-5.6", input="hello there", store=False).text()
        assert "hello there" in text
        result = session.create(model="gpt-5.6", input=[{"role": "user", "content": "again"}], store=False,
                                instructions="be brief", temperature=0.5, metadata={"k": "v"}).result()
        assert result.ok and "again" in result.output_text
        assert session.last_response_id == result.response_id


def test_create_sends_tools_and_extra_body(client: rws.Client) -> None:
    with client.session(defaults=MODEL) as session:
        result = session.create(input="please read_file notes.txt", tools=TOOLS,
                                extra_body={"parallel_tool_calls": False}).result()
        calls = [item for item in result.response["output"] if item["type"] == "function_call"]
        assert calls and calls[0]["name"] == "read_file"
        answer = session.create(input=[{"type": "function_call_output", "call_id": calls[0]["call_id"],
                                        "output": "the notes"}], tools=TOOLS).result()
        assert answer.ok


def test_turn_still_takes_a_dict_or_json_text(client: rws.Client) -> None:
    with client.session(defaults=MODEL) as session:
        assert session.turn({"input": "as a dict"}).result().ok
        assert session.turn(json.dumps({"input": "as text"})).result().ok
        assert session.turn(b'{"input": "as bytes"}').result().ok


def test_unknown_client_option_is_a_type_error(sim) -> None:
    with pytest.raises(TypeError, match="conect_timeout_ms"):
        rws.Client(base_url=sim.base_url, conect_timeout_ms=1)  # type: ignore[call-arg]


_SNIPPET = '''
from responses_ws import Client, Session


def good(session: Session) -> None:
    session.create(model="gpt-5.6", input="hi", store=False, temperature=0.2, max_output_tokens=50,
                   tools=[{"type": "function", "name": "f", "parameters": {"type": "object"}}],
                   tool_choice="auto", reasoning={"effort": "low"}, text={"format": {"type": "text"}},
                   include=["reasoning.encrypted_content"], extra_body={"anything": 1})
    session.create(input=[{"role": "user", "content": "hi"},
                          {"type": "function_call_output", "call_id": "c", "output": "x"}])
    Client(base_url="http://127.0.0.1:1/v1", connect_timeout_ms=1000, transport="http", headers={"a": "b"},
           verify_peer=True, max_queued_bytes=1 << 20)


def bad(session: Session) -> None:
    session.create(modle="gpt-5.6")  # line 17
    session.create(temperature="hot")
    session.create(store="yes")
    session.create(reasoning={"effort": "extreme"})
    session.create(truncation="sometimes")
    Client(conect_timeout_ms=5)
    Client(connect_timeout_ms="soon")
    Client(transport="carrier-pigeon")
'''


def test_mypy_strict_flags_unknown_keys_and_wrong_types(tmp_path: Path) -> None:
    pytest.importorskip("mypy")
    source = tmp_path / "snippet.py"
    source.write_text(textwrap.dedent(_SNIPPET))
    proc = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "--cache-dir", str(tmp_path / "cache"),
         "--show-error-codes", "--no-error-summary", str(source)],
        capture_output=True, text=True, cwd=str(tmp_path),
    )
    errors = [line for line in proc.stdout.splitlines() if ": error:" in line]
    by_line = {int(line.split(":")[1]): line for line in errors}
    # Every bad call (lines 17-24) is flagged, and nothing in good() is.
    assert sorted(by_line) == list(range(17, 25)), proc.stdout + proc.stderr
    assert '"modle"' in by_line[17] and "[call-arg]" in by_line[17]
    assert '"temperature"' in by_line[18] and "[arg-type]" in by_line[18]
    assert '"conect_timeout_ms"' in by_line[22]
    assert '"connect_timeout_ms"' in by_line[23] and "[arg-type]" in by_line[23]


def test_the_package_passes_mypy_strict(tmp_path: Path) -> None:
    pytest.importorskip("mypy")
    package = Path(rws.__file__).parent
    assert (package / "py.typed").exists()
    # The installed package, found through its py.typed, checked as a user's mypy would see it.
    proc = subprocess.run([sys.executable, "-m", "mypy", "--strict", "--no-incremental", "-p", "responses_ws"],
                          capture_output=True, text=True, cwd=str(tmp_path))
    assert proc.returncode == 0, proc.stdout + proc.stderr
