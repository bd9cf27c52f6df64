#!/usr/bin/env python3
"""The rws command line as a user meets it: flag validation (exit 2, one line, never a trap),
explicit target selection, --version, --json that is only JSON, the transport actually used, and
the exit statuses of rws(1). Runs the release rws (RWS_BIN) with plain python3; every server is
the embedded simulator or a port on 127.0.0.1.

Usage: RWS_BIN=.build/release/rws python3 Tests/cli_test.py [-v]
"""
import json
import os
import socket
import subprocess
import sys
import unittest

RWS = os.environ.get("RWS_BIN", ".build/release/rws")
# Nothing from the caller's environment may choose the target behind a test's back.
CLEAN_ENV = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}


def rws(*args, env=None, timeout=120):
    """Runs rws and returns (exit status, stdout, stderr)."""
    run_env = dict(CLEAN_ENV)
    run_env.update(env or {})
    done = subprocess.run([RWS, *args], capture_output=True, text=True, env=run_env, timeout=timeout)
    return done.returncode, done.stdout, done.stderr


class BoundClosedPort:
    """A 127.0.0.1 port that is bound but not listening: a connect is refused, and no other
    process can take the port while the test holds it."""

    def __enter__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        return self.sock.getsockname()[1]

    def __exit__(self, *exc):
        self.sock.close()


class UsageErrors(unittest.TestCase):
    """A bad value exits 2 with one line on stderr that names the flag, and nothing on stdout."""

    CASES = [
        (["loop", "--turns", "0"], "--turns must be at least 1"),
        (["demo", "--turns", "0"], "--turns must be at least 1"),
        (["loop", "--turns=-5"], "--turns must be at least 1"),
        (["loop", "--turns", "many"], "'many' is invalid for '--turns"),
        (["loop", "--pause-ms=-1"], "--pause-ms must be between 0 and"),
        (["loop", "--max-connection-age", "0"], "--max-connection-age must be more than 0"),
        (["loop", "--rotation-margin", "4000", "--max-connection-age", "100"], "--rotation-margin must be"),
        (["loop", "--transport", "carrier-pigeon"], "carrier-pigeon"),
        (["loop", "--sim-fault", "explode@1"], "--sim-fault"),
        (["loop", "--sim-reject-upgrade", "99"], "--sim-reject-upgrade must be an HTTP status"),
        (["demo", "--cost-us-per-input-kb=-1"], "--cost-us-per-input-kb must be 0 or more"),
        (["run"], "Missing expected argument"),
        (["run", "--api-key", "", "hi"], "--api-key must not be empty"),
        (["run", "--base-url", "ftp://example.invalid/v1", "--api-key", "k", "hi"], "--base-url must start with"),
        (["sim", "--port", "70000"], "--port must be 0"),
        (["sim", "--threads", "0"], "--threads must be 1 to 256"),
        (["sim", "--tls-cert", "/nonexistent.pem"], "--tls-cert and --tls-key go together"),
        (["bench", "--events", "0"], "--events must be at least 1"),
        (["bench-sim", "--seconds", "0"], "--seconds must be more than 0"),
        (["no-such-command"], "Unexpected argument 'no-such-command'"),
        (["loop", "--no-such-flag"], "Unknown option '--no-such-flag'"),
    ]

    def test_each_bad_value_exits_2_with_one_line(self):
        for args, expected in self.CASES:
            with self.subTest(args=args):
                status, out, err = rws(*args)
                self.assertEqual(status, 2, f"rws {' '.join(args)}: stderr {err!r}")
                self.assertEqual(out, "")
                lines = err.strip().splitlines()
                self.assertEqual(len(lines), 1, f"want one line, got {err!r}")
                self.assertIn(expected, lines[0])
                self.assertTrue(lines[0].startswith("rws"), lines[0])
                self.assertIn("--help", lines[0])

    def test_help_exits_0(self):
        status, out, _ = rws("loop", "--help")
        self.assertEqual(status, 0)
        self.assertIn("--turns", out)
        self.assertIn("--api-key", out)


class Version(unittest.TestCase):
    def test_version_names_tool_and_library(self):
        status, out, err = rws("--version")
        self.assertEqual(status, 0, err)
        lines = out.strip().splitlines()
        self.assertRegex(lines[0], r"^rws \d+\.\d+\.\d+$")
        # The release build has libresponsesws.so next to rws: the line names its version and path.
        self.assertRegex(lines[1], r"^libresponsesws \d+\.\d+\.\d+ \(/.*libresponsesws\.so\)$")


class TargetSelection(unittest.TestCase):
    def test_base_url_without_key_stops_with_2(self):
        for args, env, source in [
            (["run", "--base-url", "http://127.0.0.1:9/v1", "hi"], {}, "--base-url"),
            (["run", "hi"], {"OPENAI_BASE_URL": "http://127.0.0.1:9/v1"}, "OPENAI_BASE_URL"),
            (["loop", "--turns", "3"], {"OPENAI_BASE_URL": "http://127.0.0.1:9/v1"}, "OPENAI_BASE_URL"),
            (["demo"], {"OPENAI_BASE_URL": "http://127.0.0.1:9/v1"}, "OPENAI_BASE_URL"),
        ]:
            with self.subTest(args=args, env=env):
                status, out, err = rws(*args, env=env)
                self.assertEqual(status, 2, err)
                self.assertEqual(out, "")
                self.assertIn(f"{source} is http://127.0.0.1:9/v1 but there is no API key", err)
                self.assertIn("--api-key", err)

    def test_embedded_simulator_is_announced_on_stderr(self):
        status, out, err = rws("run", "Say hello")
        self.assertEqual(status, 0, err)
        self.assertTrue(out.strip(), "the answer goes to stdout")
        self.assertIn("no API key, so the turns go to the embedded simulator at http://127.0.0.1:", err)
        self.assertNotIn("simulator", out)

    def test_api_key_flag_selects_the_base_url_and_a_refusal_exits_1(self):
        with BoundClosedPort() as port:
            url = f"http://127.0.0.1:{port}/v1"
            status, out, err = rws("run", "--base-url", url, "--api-key", "sk-secret-for-cli-test", "hi")
        self.assertEqual(status, 1, err)
        self.assertIn(f"sending turns to {url}", err)
        self.assertIn("connection refused", err)
        self.assertNotIn("sk-secret-for-cli-test", out + err)

    def test_key_from_environment_with_base_url(self):
        with BoundClosedPort() as port:
            url = f"http://127.0.0.1:{port}/v1"
            status, _, err = rws("loop", "--turns", "2", env={"OPENAI_BASE_URL": url, "OPENAI_API_KEY": "sk-env"})
        self.assertEqual(status, 1, err)
        self.assertIn(f"sending turns to {url}", err)


class JSONOutput(unittest.TestCase):
    def json_lines(self, out):
        return [json.loads(line) for line in out.splitlines()]

    def test_loop_json_is_json_lines_only(self):
        status, out, err = rws("loop", "--turns", "4", "--json", "--sim-tokens-per-second", "0")
        self.assertEqual(status, 0, err)
        records = self.json_lines(out)
        self.assertEqual([r["type"] for r in records], ["turn"] * 4 + ["summary"])
        self.assertEqual([r["turn"] for r in records[:4]], [1, 2, 3, 4])
        summary = records[-1]
        self.assertEqual((summary["turns"], summary["ok"], summary["transport"]), (4, 4, "ws"))
        self.assertEqual(summary["turns_over_ws"], 4)
        self.assertTrue(all(r["transport"] == "ws" for r in records[:4]))

    def test_demo_json_is_one_document(self):
        status, out, err = rws("demo", "--turns", "3", "--json", "--tokens-per-second", "0")
        self.assertEqual(status, 0, err)
        document = json.loads(out)
        self.assertEqual(document["websocket"]["ok"], 3)
        self.assertEqual(document["websocket"]["transport"], "ws")
        self.assertEqual(document["http"]["transport"], "http")

    def test_run_json_is_one_event_per_line(self):
        status, out, err = rws("run", "--json", "hi")
        self.assertEqual(status, 0, err)
        events = self.json_lines(out)
        self.assertEqual(events[-1]["type"], "response.completed")

    def test_no_progress_when_piped(self):
        # stderr is a pipe here: only the target and plan lines, no carriage-return progress.
        _, _, err = rws("demo", "--turns", "3", "--tokens-per-second", "0")
        self.assertNotIn("\r", err)
        self.assertNotIn("\x1b[", err)


class TransportActuallyUsed(unittest.TestCase):
    def test_fallback_is_reported_as_http(self):
        # The simulator refuses the upgrade: the ws client falls back to HTTP/SSE for every turn.
        status, out, err = rws("loop", "--turns", "3", "--json", "--sim-reject-upgrade", "426", "--sim-tokens-per-second", "0")
        self.assertEqual(status, 0, err)
        records = [json.loads(line) for line in out.splitlines()]
        self.assertTrue(all(r["transport"] == "http" and "fallback" in r["flags"] for r in records[:3]), records)
        summary = records[-1]
        self.assertEqual((summary["transport_requested"], summary["transport"], summary["turns_over_http"]), ("ws", "http", 3))

    def test_text_lines_name_the_transport(self):
        status, out, err = rws("loop", "--turns", "2", "--transport", "http", "--sim-tokens-per-second", "0")
        self.assertEqual(status, 0, err)
        lines = out.strip().splitlines()
        self.assertTrue(all("over http" in line for line in lines), lines)


class Verbose(unittest.TestCase):
    def test_v_prints_the_librarys_log_records_on_stderr(self):
        status, out, err = rws("run", "-v", "hi")
        self.assertEqual(status, 0, err)
        self.assertRegex(err, r"rws: \[info\] WebSocket connected to 127\.0\.0\.1:\d+ in \d+ ms")
        self.assertNotIn("[debug]", err)
        self.assertNotIn("rws: [", out)

    def test_vv_adds_debug_records(self):
        status, _, err = rws("loop", "--turns", "1", "-vv", "--sim-tokens-per-second", "0")
        self.assertEqual(status, 0, err)
        self.assertIn("rws: [debug] connecting to ws://127.0.0.1:", err)

    def test_without_v_there_are_no_records(self):
        _, _, err = rws("run", "hi")
        self.assertNotIn("rws: [", err)


class Proxies(unittest.TestCase):
    def test_an_unreachable_proxy_fails_the_turn_and_hides_its_password(self):
        with BoundClosedPort() as target, BoundClosedPort() as proxy:
            status, out, err = rws("run", "--base-url", f"http://127.0.0.1:{target}/v1", "--api-key", "sk-test",
                                   "--proxy", f"http://agent:hunter2@127.0.0.1:{proxy}", "hi")
        self.assertEqual(status, 1, err)
        self.assertIn(f"cannot reach the proxy http://127.0.0.1:{proxy} (from proxy)", err)
        self.assertNotIn("hunter2", out + err)

    def test_a_bad_proxy_url_is_one_clear_line(self):
        status, _, err = rws("run", "--base-url", "http://127.0.0.1:1/v1", "--api-key", "sk-test", "--proxy", "socks4://127.0.0.1:1", "hi")
        self.assertEqual(status, 1, err)
        self.assertIn("proxy: socks4:// proxies are not supported", err)

    def test_the_embedded_simulator_ignores_proxy_variables(self):
        # It runs inside rws: a corporate http_proxy must not break the first `rws demo`.
        with BoundClosedPort() as proxy:
            dead = f"http://127.0.0.1:{proxy}"
            status, out, err = rws("loop", "--turns", "2", "--sim-tokens-per-second", "0",
                                   env={"http_proxy": dead, "https_proxy": dead, "ALL_PROXY": dead})
        self.assertEqual(status, 0, err)
        self.assertRegex(out.splitlines()[-1], r"^2/2 turns ok")


class FailedTurns(unittest.TestCase):
    def test_a_failed_turn_exits_1_and_says_why(self):
        # The first create is dropped after it was written: outcome unknown, never replayed.
        status, out, err = rws("loop", "--turns", "3", "--sim-fault", "drop-mid-stream@1", "--sim-tokens-per-second", "0")
        self.assertEqual(status, 1, err)
        self.assertIn("turn 1:", out)
        self.assertIn("error", out.splitlines()[0])
        self.assertRegex(out.splitlines()[-1], r"^2/3 turns ok")


if __name__ == "__main__":
    if not os.access(RWS, os.X_OK):
        sys.exit(f"cli_test.py: RWS_BIN={RWS} is not an executable rws")
    unittest.main()
