"""A script written for the openai SDK's WebSocket mode, N chained turns, through the SDK's own
`client.responses.connect()` and through `responses_ws.openai.connect(client)`, against `rws sim`.

Each turn is one `connection.response.create(..., previous_response_id=<the last id>)` and the
loop over the connection's events up to `response.completed` (every event is an SDK object in
both cases). ms_per_turn is wall-clock per turn; cpu_ms_per_turn is this process's CPU time
(`time.process_time`: Python, the SDK and the library's threads; the simulator is another
process). One JSON line per transport and mode (sync, async); no assertions.
Usage: python bench_openai.py [--turns N] [--output-tokens T]
Environment: RWS_BIN (the `rws` binary, default <repo>/.build/release/rws), RESPONSES_WS_LIBRARY.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import time
from typing import Any, Callable, Dict, List

import openai

import responses_ws.openai

from bench import start_sim  # the same simulator start-up as bench.py (this directory)
API_KEY = "sk-bench"


def row(name: str, mode: str, wall: List[float], cpu: List[float], events: int) -> Dict[str, Any]:
    turns = len(wall)
    return {
        "transport": name, "mode": mode, "turns": turns, "events_per_turn": events // max(1, turns),
        "ms_per_turn": round(1000 * sum(wall) / turns, 3),
        "ms_per_turn_median": round(1000 * sorted(wall)[turns // 2], 3),
        "cpu_ms_per_turn": round(1000 * sum(cpu) / turns, 3),
    }


def run_sync(name: str, open_connection: Callable[[], Any], turns: int) -> Dict[str, Any]:
    wall: List[float] = []
    cpu: List[float] = []
    events = 0
    with open_connection() as connection:
        previous = None
        for i in range(turns + 2):  # the first two turns warm up and are not timed
            w0, c0 = time.perf_counter(), time.process_time()
            connection.response.create(model="gpt-5.6", input=f"turn {i}", store=False, previous_response_id=previous)
            for event in connection:
                if i >= 2:
                    events += 1
                if event.type == "response.completed":
                    previous = event.response.id
                    break
            if i >= 2:
                wall.append(time.perf_counter() - w0)
                cpu.append(time.process_time() - c0)
    return row(name, "sync", wall, cpu, events)


async def run_async(name: str, open_connection: Callable[[], Any], turns: int) -> Dict[str, Any]:
    wall: List[float] = []
    cpu: List[float] = []
    events = 0
    async with open_connection() as connection:
        previous = None
        for i in range(turns + 2):
            w0, c0 = time.perf_counter(), time.process_time()
            await connection.response.create(model="gpt-5.6", input=f"turn {i}", store=False, previous_response_id=previous)
            async for event in connection:
                if i >= 2:
                    events += 1
                if event.type == "response.completed":
                    previous = event.response.id
                    break
            if i >= 2:
                wall.append(time.perf_counter() - w0)
                cpu.append(time.process_time() - c0)
    return row(name, "async", wall, cpu, events)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--turns", type=int, default=200)
    parser.add_argument("--output-tokens", type=int, default=24)
    args = parser.parse_args()
    proc, out, base_url = start_sim(args.output_tokens)
    try:
        sync_client = openai.OpenAI(base_url=base_url, api_key=API_KEY)
        async_client = openai.AsyncOpenAI(base_url=base_url, api_key=API_KEY)
        for name, opener in (("sdk", lambda: sync_client.responses.connect()),
                             ("responses_ws", lambda: responses_ws.openai.connect(sync_client))):
            print(json.dumps(run_sync(name, opener, args.turns)), flush=True)
        for name, aopener in (("sdk", lambda: async_client.responses.connect()),
                              ("responses_ws", lambda: responses_ws.openai.connect(async_client))):
            print(json.dumps(asyncio.run(run_async(name, aopener, args.turns))), flush=True)
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait()
        out.close()


if __name__ == "__main__":
    main()
