"""A user's script over the SDK drop-in and the agents provider passes mypy --strict, with the
events typed as the SDK's own (not Any)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

_SCRIPT = '''
import openai
from openai.types.responses import Response
import responses_ws.openai
from agents import Agent, RunConfig, Runner
from responses_ws.agents import ResponsesWSProvider


def sync_script(client: openai.OpenAI) -> str:
    with responses_ws.openai.connect(client) as connection:
        connection.response.create(model="gpt-5.6", input="Hello!", store=False)
        for event in connection:
            reveal_type(event)
            if event.type == "response.completed":
                response: Response = event.response
                return response.output_text
    return ""


async def async_script(client: openai.AsyncOpenAI) -> str:
    async with responses_ws.openai.connect(client) as connection:
        await connection.response.create(model="gpt-5.6", input="Hello!", store=False)
        async for event in connection:
            if event.type == "response.completed":
                return event.response.output_text
    return ""


async def agent_run() -> str:
    provider = ResponsesWSProvider(base_url="http://127.0.0.1:1/v1", api_key="k")
    result = await Runner.run(Agent(name="a"), "hi", run_config=RunConfig(model_provider=provider))
    await provider.aclose()
    return str(result.final_output)
'''


def test_a_script_over_both_adapters_passes_mypy_strict(tmp_path: Path) -> None:
    pytest.importorskip("mypy")
    pytest.importorskip("openai")
    pytest.importorskip("agents")
    source = tmp_path / "user_script.py"
    source.write_text(textwrap.dedent(_SCRIPT))
    proc = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "--cache-dir", str(tmp_path / "cache"),
         "--no-error-summary", str(source)],
        capture_output=True, text=True, cwd=str(tmp_path),
    )
    lines = proc.stdout.splitlines()
    assert not [line for line in lines if ": error:" in line], proc.stdout + proc.stderr
    revealed = next(line for line in lines if "Revealed type" in line)
    assert "openai.types.responses.responses_server_event.ResponseWsCompleted" in revealed, revealed
