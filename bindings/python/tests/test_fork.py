"""fork(): workers forked from a process that used the library (Python multiprocessing's fork
start method, as gunicorn and celery prefork workers do) create their own clients and run turns."""

from __future__ import annotations

import multiprocessing
import os

import responses_ws as rws
from conftest import API_KEY

MODEL = {"model": "gpt-5.6", "store": False}


def _worker(args: tuple) -> tuple:
    """Runs in a forked child: a new client (by host name or by IP), three chained turns."""
    base_url, n = args
    with rws.Client(base_url=base_url, api_key=API_KEY, connect_timeout_ms=20000) as client:
        with client.session(defaults=MODEL) as session:
            texts = [session.text({"input": f"worker {n} turn {i}"}) for i in range(3)]
            return os.getpid(), texts, session.stats().incremental_sends


def test_forked_workers_run_turns_while_the_parent_streams(sim) -> None:
    by_name = sim.base_url.replace("127.0.0.1", "localhost")
    with rws.Client(base_url=by_name, api_key=API_KEY) as parent:
        with parent.session(defaults=MODEL) as session:
            # The parent has looked a host name up and holds an open connection...
            assert session.text({"input": "before the fork"})
            # ...and has a turn streaming while the workers are forked.
            streaming = iter(session.turn({"input": "stream while the children start"}))
            first = next(streaming)
            assert first.type == "response.created"
            context = multiprocessing.get_context("fork")
            jobs = [(by_name if n % 2 == 0 else sim.base_url, n) for n in range(8)]
            # maxtasksperchild=1: each job gets its own freshly forked worker (a pool would
            # otherwise let a fast worker take two jobs and fork only seven).
            with context.Pool(8, maxtasksperchild=1) as pool:
                # A hang guard only: a worker that cannot connect fails the test instead of hanging it.
                results = pool.map_async(_worker, jobs, chunksize=1).get(timeout=120)
            # The parent is unaffected: its turn ends normally and the session goes on.
            rest = list(streaming)
            assert rest and rest[-1].type == "response.completed"
            assert session.text({"input": "after the fork"})
    assert len({pid for pid, _, _ in results}) == 8, "eight distinct worker processes"
    for _, texts, incremental in results:
        assert len(texts) == 3 and all(texts)
        assert incremental == 2, "turns 2 and 3 of each worker chained on its own connection"
