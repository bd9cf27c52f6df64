"""Runs the Autobahn client cases (kosoku's fuzzing server) against the library's WebSocket client.

    python Tests/autobahn/run.py PATH/TO/rws-autobahn [--report DIR] [-i CASE ...]

Starts the fuzzing server on 127.0.0.1 (a free port), runs the echo driver against it, and judges
every case: OK, NON-STRICT and INFORMATIONAL pass; the binary-message cases (1.2.*, 9.2.*, 9.4.*,
9.6.*, 9.8.*, and the compressed binary data sets 12.2.*, 12.3.*, 12.5.*) pass only if the client
closed them cleanly with 1003, since the Responses API never sends binary and the library refuses
it. The driver offers permessage-deflate, so groups 12 and 13 (compression) run too. Prints the
counts; exits 1 on any other outcome. Cases 13.2, 13.5 and 13.6 run in a second pass whose offer
adds client_no_context_takeover, the only offer their server side accepts.
"""
from __future__ import annotations

import argparse
import asyncio
import collections
import fnmatch
import sys

from kosoku import FailureError, run_fuzzingserver

BINARY_CASES = ("1.2.*", "9.2.*", "9.4.*", "9.6.*", "9.8.*", "12.2.*", "12.3.*", "12.5.*")
EXCLUDED: list[str] = []
# Their server accepts permessage-deflate only when the client offers client_no_context_takeover.
NO_CONTEXT_TAKEOVER_CASES = ("13.2.*", "13.5.*", "13.6.*")
PASSING = {"OK", "NON-STRICT", "INFORMATIONAL"}


def is_binary(case_id: str) -> bool:
    return any(fnmatch.fnmatchcase(case_id, pattern) for pattern in BINARY_CASES)


def judge(result) -> str | None:
    """None when the case is acceptable, else why not."""
    behavior, close = result.behavior.value, result.behavior_close.value
    if is_binary(result.case_id):
        if result.remote_close_code == 1003 and not result.dropped_by_me and result.was_clean:
            return None
        return (f"binary message: expected a clean close 1003 by the client, got close code "
                f"{result.remote_close_code} (clean: {result.was_clean}; {result.was_not_clean_reason})")
    if behavior in PASSING and close in PASSING:
        return None
    return f"{behavior} / close {close}: {result.result} {result.result_close}"


async def run_cases(driver_path: str, include, exclude, offer: str):
    """One fuzzing-server run: its results, the driver's exit status and output."""
    async with run_fuzzingserver(include, EXCLUDED + exclude, host="127.0.0.1", port=0) as server:
        address = f"{server.address}:{server.port}"
        driver = await asyncio.create_subprocess_exec(
            driver_path, address, "responses-ws", offer,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
        # The run ends when the driver has driven every case; a driver that dies ends it too.
        driver_output = (await asyncio.wait_for(driver.stdout.read(), timeout=1800)).decode(errors="replace")
        driver_rc = await driver.wait()
        try:
            results = await asyncio.wait_for(server.get_result(), timeout=30)
        except FailureError as failure:
            results = failure.results
        except asyncio.TimeoutError:
            results = []
    return list(results), driver_rc, driver_output


async def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("driver")
    parser.add_argument("--report", default=None, help="write kosoku's HTML/JSON reports here")
    parser.add_argument("-i", "--include", action="append", default=None)
    args = parser.parse_args()

    # Two runs of the fuzzing server: every case with the plain offer, then the cases whose
    # server accepts only an offer with client_no_context_takeover.
    if args.include is None:
        plain_include, hinted_include = None, list(NO_CONTEXT_TAKEOVER_CASES)
    else:
        hinted_include = [p for p in args.include if p.startswith(tuple(c[:-1] for c in NO_CONTEXT_TAKEOVER_CASES))]
        plain_include = [p for p in args.include if p not in hinted_include]
    results, driver_rc, driver_output = [], 0, ""
    for include, exclude, offer in ((plain_include, list(NO_CONTEXT_TAKEOVER_CASES), "--deflate"),
                                    (hinted_include, [], "--deflate-no-context-takeover")):
        if include == []:
            continue
        more, rc, output = await run_cases(args.driver, include, exclude, offer)
        results += more
        driver_rc = driver_rc or rc
        driver_output += output

    if args.report:
        from kosoku._report import write_reports
        write_reports(results, args.report)

    counts = collections.Counter()
    problems = []
    binary_closed_1003 = 0
    for result in results:
        if not is_binary(result.case_id):
            counts[result.behavior.value] += 1
        why = judge(result)
        if is_binary(result.case_id):
            binary_closed_1003 += why is None
        if why:
            problems.append((result.case_id, why))

    binary_total = sum(1 for r in results if is_binary(r.case_id))
    print(f"autobahn: {len(results)} cases judged")
    print(f"  {len(results) - binary_total} text and control cases, kosoku's verdicts: "
          + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    print(f"  {binary_total} binary-message cases (kosoku expects an echo; the library refuses binary): "
          f"{binary_closed_1003} closed cleanly with 1003")
    for case_id, why in problems[:40]:
        print(f"  {case_id}: {why}")
    if len(problems) > 40:
        print(f"  ... and {len(problems) - 40} more")
    if driver_rc != 0:
        print(f"the echo driver exited {driver_rc}:\n{driver_output[-2000:]}")
    print(f"{len(results) - len(problems)} passed, {len(problems)} failed")
    return 0 if not problems and driver_rc == 0 and results else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
