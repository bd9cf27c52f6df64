"""The same openai-agents agent, N conversation turns, through three transports, against `rws sim`.

  sdk_http       the agents SDK's Responses model over HTTP/SSE (OpenAIProvider, use_responses)
  sdk_websocket  the agents SDK's own Responses WebSocket transport (use_responses_websocket)
  responses_ws   ResponsesWSProvider: the same model with libresponsesws as the transport

One turn is one `Runner.run` (or `Runner.run_streamed`, with --streamed) of a growing
conversation: the previous turn's `to_input_list()` plus a new user message, so the runner resends
the whole history, as agent code without previous_response_id does. The agent has one function
tool and the simulator calls it for every user message, so each turn is two model calls (the
call, then the answer to its output). With --concurrent K, K such conversations run at once
(`asyncio.gather`) on one provider and a turn is one turn of all K. Tracing is off.

ms_per_turn is wall-clock per turn; cpu_ms_per_turn is this process's CPU time per turn
(`time.process_time`: Python, the SDKs and the library's threads; the simulator is another
process). The first turns (--warmup) of each transport are not timed. One JSON line per
transport; no assertions.
Usage: python bench_agents.py [--turns N] [--warmup W] [--streamed] [--concurrent K] [--transports a,b,c]
Environment: RWS_BIN (the `rws` binary, default <repo>/.build/release/rws), RESPONSES_WS_LIBRARY.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import time
from typing import Any, Callable, Dict, List

from agents import Agent, ModelProvider, OpenAIProvider, RunConfig, Runner, function_tool
from openai import AsyncOpenAI

from responses_ws.agents import ResponsesWSProvider

from bench import start_sim  # the same simulator start-up as bench.py (this directory)
API_KEY = "sk-bench"


@function_tool
def get_weather(city: str) -> str:
    """The weather of a city."""
    return f"sunny in {city}"


AGENT: Agent[Any] = Agent(name="weather", instructions="Answer briefly.", model="gpt-5.6", tools=[get_weather])


def providers(base_url: str) -> Dict[str, Callable[[], ModelProvider]]:
    def sdk(websocket: bool) -> Callable[[], ModelProvider]:
        def make() -> ModelProvider:
            provider = OpenAIProvider(openai_client=AsyncOpenAI(base_url=base_url, api_key=API_KEY),
                                      use_responses=True, use_responses_websocket=websocket)
            setattr(provider, "bench_openai_client", provider._get_client())  # closed by measure()
            return provider

        return make

    return {
        "sdk_http": sdk(False),
        "sdk_websocket": sdk(True),
        "responses_ws": lambda: ResponsesWSProvider(base_url=base_url, api_key=API_KEY),
    }


async def one_turn(history: List[Any], text: str, config: RunConfig, streamed: bool) -> List[Any]:
    """Runs one turn of the conversation and returns the history for the next one."""
    turn_input = history + [{"role": "user", "content": text}]
    if streamed:
        result = Runner.run_streamed(AGENT, turn_input, run_config=config)
        async for _ in result.stream_events():
            pass
    else:
        result = await Runner.run(AGENT, turn_input, run_config=config)  # type: ignore[assignment]
    return result.to_input_list()


async def measure(name: str, make: Callable[[], ModelProvider], turns: int, warmup: int, streamed: bool,
                  concurrent: int = 1) -> Dict[str, Any]:
    provider = make()
    config = RunConfig(model_provider=provider, tracing_disabled=True)
    histories: List[List[Any]] = [[] for _ in range(concurrent)]

    async def all_conversations(text: str) -> None:
        histories[:] = await asyncio.gather(*[
            one_turn(history, f"{text} (conversation {k})", config, streamed) for k, history in enumerate(histories)
        ])

    for i in range(warmup):
        await all_conversations(f"weather in city {i}?")
    wall: List[float] = []
    cpu: List[float] = []
    for i in range(turns):
        w0, c0 = time.perf_counter(), time.process_time()
        await all_conversations(f"weather in town {i}?")
        wall.append(time.perf_counter() - w0)
        cpu.append(time.process_time() - c0)
    row: Dict[str, Any] = {
        "transport": name,
        "mode": "run_streamed" if streamed else "run",
        "turns": turns,
        "concurrent_conversations": concurrent,
        "model_calls_per_turn": 2 * concurrent,
        "history_items_at_end": len(histories[0]),
        "ms_per_turn": round(1000 * sum(wall) / turns, 3),
        "ms_per_turn_median": round(1000 * sorted(wall)[turns // 2], 3),
        "cpu_ms_per_turn": round(1000 * sum(cpu) / turns, 3),
    }
    if isinstance(provider, ResponsesWSProvider):
        stats = provider.client.stats()
        row["library"] = {"connects": stats.connects, "incremental_sends": stats.incremental_sends,
                          "full_resends": stats.full_resends, "bytes_sent": stats.bytes_sent}
    await provider.aclose()
    sdk_client = getattr(provider, "bench_openai_client", None)
    if sdk_client is not None:
        await sdk_client.close()  # on this loop, before asyncio.run closes it
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--turns", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--streamed", action="store_true", help="Runner.run_streamed instead of Runner.run")
    parser.add_argument("--concurrent", type=int, default=1, help="conversations run at once on one provider")
    parser.add_argument("--transports", default="sdk_http,sdk_websocket,responses_ws")
    args = parser.parse_args()
    proc, out, base_url = start_sim()
    try:
        table = providers(base_url)
        for name in args.transports.split(","):
            row = asyncio.run(measure(name, table[name], args.turns, args.warmup, args.streamed, args.concurrent))
            print(json.dumps(row), flush=True)
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait()
        out.close()


if __name__ == "__main__":
    main()
