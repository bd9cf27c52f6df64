"""Events per second delivered into Python, for each way the C library hands out events.

Starts `rws sim --tokens-per-second 0 --output-tokens N` and runs one long turn per mode; every
mode builds the same `Event` objects, so the numbers compare the delivery paths:

  callback      rws_turn_options.on_event: a cffi callback on the library's I/O thread
  pull          rws_turn_next_event: one call per event, on this thread
  batch         rws_turn_next_events: one call per batch of queued events, on this thread
  iterator      `for event in turn` (the public API; uses batch when the library has it)
  async         `async for event in turn` (pulls with timeout 0, then awaits the notify fd)
  pull_drained  as pull, but the turn has ended first and only draining its queue is timed
  batch_drained as batch, likewise: the consumer's own cost per event without the producer

events_per_s is wall-clock (while streaming it is bounded by the simulator and the library,
which produce about 200k events/s here); process_cpu_us_per_event is the CPU time of this
process (library threads and Python) per event, the cost of the delivery path itself.

Then, in the same run and against the same simulator:

  turn_sync / turn_async  --turns minimal chained turns (generate: false: three events each) on
                one session, iterated with `for` / `async for`: us_per_turn, wall and CPU
  c_callback    `rws bench --only callback --base-url ...`: the C library's own callback rate,
                no Python (its JSON line is printed as it is, then a summary line compares)

Prints one JSON line per mode. Environment: RWS_BIN (the `rws` binary), RESPONSES_WS_LIBRARY.
Usage: python bench.py [--tokens N] [--repeat R] [--turns T]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

import responses_ws as rws
from responses_ws._ffi import ffi, lib
from responses_ws.events import event_from_c

REPO = Path(__file__).resolve().parents[2]
REQUEST = json.dumps({"model": "gpt-5.6", "input": "Stream a long answer.", "store": False}).encode()


def start_sim(tokens: Optional[int] = None) -> tuple:
    """`rws sim` on a free port (also used by bench_openai.py and bench_agents.py): returns the
    process, its stdout file (close it after stopping the process) and the base URL."""
    rws_bin = os.environ.get("RWS_BIN", str(REPO / ".build" / "release" / "rws"))
    out = tempfile.NamedTemporaryFile(prefix="rws-bench-", suffix=".out")
    tokens_args = [] if tokens is None else ["--output-tokens", str(tokens)]
    proc = subprocess.Popen(
        [rws_bin, "sim", "--port", "0", "--tokens-per-second", "0", *tokens_args],
        stdout=out, stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:  # a start-up poll, not a synchronisation of the measurement
        line = Path(out.name).read_text().split("\n", 1)[0]
        if line.endswith("/v1"):
            return proc, out, f"http://{line.split('ws://', 1)[1]}"
        time.sleep(0.02)
    proc.kill()
    sys.exit("rws sim did not start")


def start_turn(session: rws.Session, options: Any = ffi.NULL) -> Any:
    out = ffi.new("rws_turn **")
    rws.errors.check(lib.rws_turn_start(session._handle, REQUEST, len(REQUEST), options, out))
    return out[0]


def finish(handle: Any) -> None:
    result = ffi.new("rws_turn_result *")
    lib.rws_turn_wait(handle, -1)
    lib.rws_turn_get_result(handle, result, ffi.sizeof("rws_turn_result"))
    if result.status != 0:
        sys.exit(f"turn failed: {ffi.string(lib.rws_strerror(result.status)).decode()}")
    lib.rws_turn_free(handle)


def run_callback(session: rws.Session) -> int:
    events: List[rws.Event] = []
    append = events.append

    @ffi.callback("int(void *, const rws_event *)")
    def on_event(_user_data: Any, event: Any) -> int:
        append(event_from_c(event))
        if len(events) >= 256:  # consume in batches like the other modes, without keeping them all
            events.clear()
            counted[0] += 256
        return 0

    counted = [0]

    options = ffi.new("rws_turn_options *")
    lib.rws_turn_options_init(options)
    options.on_event = on_event
    finish(start_turn(session, options))
    return counted[0] + len(events)


def run_pull(session: rws.Session) -> int:
    handle = start_turn(session)
    out = ffi.new("const rws_event **")
    n = 0
    while lib.rws_turn_next_event(handle, -1, out) == 0:
        event_from_c(out[0])
        n += 1
    finish(handle)
    return n


def run_batch(session: rws.Session) -> int:
    handle = start_turn(session)
    capacity = 256
    batch = ffi.new("const rws_event *[]", capacity)
    count = ffi.new("size_t *")
    n = 0
    while lib.rws_turn_next_events(handle, -1, batch, capacity, count) == 0:
        events = [event_from_c(batch[i]) for i in range(count[0])]
        n += len(events)
    finish(handle)
    return n


def run_pull_drained(session: rws.Session) -> int:
    handle = start_turn(session)
    lib.rws_turn_wait(handle, -1)  # every event is queued: only the consumer's cost is timed
    out = ffi.new("const rws_event **")
    n = 0
    start = time.perf_counter()
    while lib.rws_turn_next_event(handle, -1, out) == 0:
        event_from_c(out[0])
        n += 1
    _drain_seconds.append(time.perf_counter() - start)
    finish(handle)
    return n


def run_batch_drained(session: rws.Session) -> int:
    handle = start_turn(session)
    lib.rws_turn_wait(handle, -1)
    capacity = 256
    batch = ffi.new("const rws_event *[]", capacity)
    count = ffi.new("size_t *")
    n = 0
    start = time.perf_counter()
    while lib.rws_turn_next_events(handle, -1, batch, capacity, count) == 0:
        events = [event_from_c(batch[i]) for i in range(count[0])]
        n += len(events)
    _drain_seconds.append(time.perf_counter() - start)
    finish(handle)
    return n


# Drained modes record the time of the drain alone here (the turn's streaming is not timed).
_drain_seconds: List[float] = []


def run_iterator(session: rws.Session) -> int:
    with session.turn(REQUEST) as turn:
        return sum(1 for _ in turn)


def run_async(session: rws.Session) -> int:
    async def consume() -> int:
        n = 0
        with session.turn(REQUEST) as turn:
            async for _ in turn:
                n += 1
        return n

    return asyncio.run(consume())


MINIMAL_TURN = json.dumps({"input": "hi", "generate": False, "model": "gpt-5.6", "store": False}).encode()


def time_turns_sync(session: rws.Session, turns: int) -> Tuple[float, float]:
    """Wall and CPU seconds of `turns` minimal chained turns, each iterated with `for`."""
    start, cpu_start = time.perf_counter(), time.process_time()
    for _ in range(turns):
        with session.turn(MINIMAL_TURN) as turn:
            for _ in turn:
                pass
    return time.perf_counter() - start, time.process_time() - cpu_start


def time_turns_async(session: rws.Session, turns: int) -> Tuple[float, float]:
    """The same with `async for`, timed inside the event loop (its start-up is not counted)."""
    async def consume() -> Tuple[float, float]:
        start, cpu_start = time.perf_counter(), time.process_time()
        for _ in range(turns):
            with session.turn(MINIMAL_TURN) as turn:
                async for _ in turn:
                    pass
        return time.perf_counter() - start, time.process_time() - cpu_start

    return asyncio.run(consume())


def c_callback_rate(base_url: str, tokens: int) -> Optional[Dict[str, Any]]:
    """`rws bench --only callback` against this run's simulator: the rate with no Python."""
    rws_bin = os.environ.get("RWS_BIN", str(REPO / ".build" / "release" / "rws"))
    command = [rws_bin, "bench", "--only", "callback", "--events", str(tokens), "--base-url", base_url]
    library = os.environ.get(rws.LIBRARY_ENV)
    if library:
        command += ["--library", library]
    run = subprocess.run(command, capture_output=True, text=True, check=False)
    for line in run.stdout.splitlines():
        record = json.loads(line)
        if record.get("bench") == "events_to_c_callback":
            print(line, flush=True)
            return dict(record)
    print(json.dumps({"bench": "events_to_c_callback", "error": (run.stderr or run.stdout).strip()[-300:]}), flush=True)
    return None


MODES: Dict[str, Callable[[rws.Session], int]] = {
    "callback": run_callback,
    "pull": run_pull,
    "batch": run_batch,
    "iterator": run_iterator,
    "async": run_async,
    "pull_drained": run_pull_drained,
    "batch_drained": run_batch_drained,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tokens", type=int, default=100_000, help="answer length in tokens (events)")
    parser.add_argument("--repeat", type=int, default=3, help="turns per mode; the best is reported")
    parser.add_argument("--turns", type=int, default=2000, help="minimal turns per turn_sync/turn_async run")
    args = parser.parse_args()
    if not rws.HAS_BATCHED_PULL:
        MODES.pop("batch")
        MODES.pop("batch_drained")
    proc, out, base_url = start_sim(args.tokens)
    rates: Dict[str, float] = {}
    try:
        with rws.Client(base_url=base_url, api_key="sk-local-simulator") as client:
            with client.session() as session:
                run_iterator(session)  # warm the connection
                for mode, run in MODES.items():
                    best, best_cpu = 0.0, float("inf")
                    for _ in range(args.repeat):
                        session.reset()
                        _drain_seconds.clear()
                        start, cpu_start = time.perf_counter(), time.process_time()
                        events = run(session)
                        seconds = _drain_seconds[0] if _drain_seconds else time.perf_counter() - start
                        best = max(best, events / seconds)
                        best_cpu = min(best_cpu, (time.process_time() - cpu_start) / events)
                    rates[mode] = best
                    print(json.dumps({"bench": "python_events", "mode": mode, "events": events,
                                      "events_per_s": round(best), "us_per_event": round(1e6 / best, 3),
                                      "process_cpu_us_per_event": round(best_cpu * 1e6, 3),
                                      "python": sys.version.split()[0]}), flush=True)
            with client.session() as session:
                time_turns_sync(session, 50)  # warm the chain
                # Alternated, best of --repeat each, so that a slower phase of the machine
                # does not land on one of the two.
                best_turn: Dict[str, Tuple[float, float]] = {}
                for _ in range(args.repeat):
                    for mode, timer in (("turn_sync", time_turns_sync), ("turn_async", time_turns_async)):
                        wall, cpu = timer(session, args.turns)
                        if mode not in best_turn or wall < best_turn[mode][0]:
                            best_turn[mode] = (wall, cpu)
                for mode, (wall, cpu) in best_turn.items():
                    print(json.dumps({"bench": "python_turn", "mode": mode, "turns": args.turns,
                                      "us_per_turn": round(wall / args.turns * 1e6, 1),
                                      "process_cpu_us_per_turn": round(cpu / args.turns * 1e6, 1)}), flush=True)
        c_record = c_callback_rate(base_url, args.tokens)
        summary: Dict[str, Any] = {"bench": "python_summary",
                                   "async_over_iterator_events": round(rates["async"] / rates["iterator"], 3)}
        if c_record:
            c_rate = float(c_record["events_per_sec"])
            summary["c_callback_events_per_s"] = round(c_rate)
            for mode in ("iterator", "async", "callback"):
                summary[f"{mode}_over_c_callback"] = round(rates[mode] / c_rate, 3)
        print(json.dumps(summary), flush=True)
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=10)
        out.close()

if __name__ == "__main__":
    main()
