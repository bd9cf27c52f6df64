"""Checks of an installed responses-ws wheel, run by packaging/test-wheel.sh inside the fresh venv.

Usage:
  python smoke_wheel.py installed VENV EXPECTED_VERSION
      responses_ws is imported from VENV, and the library it loaded is the bundled copy
  python smoke_wheel.py turn BASE_URL
      one turn against a running simulator; prints the streamed text
  python smoke_wheel.py bundled-sim
      starts the wheel's own simulator (python -m responses_ws.sim) and runs one turn against it

Exits 0 on success, 1 with a message naming what failed.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from typing import List, NoReturn

API_KEY = "sk-local-simulator"


def fail(message: str) -> NoReturn:
    print(f"smoke_wheel: error: {message}", file=sys.stderr)
    sys.exit(1)


def mapped_files() -> List[str]:
    """The files mapped into this process (the dynamic loader's view of what was really opened)."""
    with open("/proc/self/maps") as maps:
        return sorted({line.split(None, 5)[5].strip() for line in maps if len(line.split(None, 5)) == 6})


def check_installed(venv: str, expected: str) -> None:
    import responses_ws

    package_dir = os.path.dirname(os.path.realpath(responses_ws.__file__))
    if not package_dir.startswith(os.path.realpath(venv) + os.sep):
        fail(f"responses_ws was imported from {package_dir}, not from the venv {venv}")
    bundled = os.path.join(package_dir, "libresponsesws.so.0")
    loaded = [path for path in mapped_files() if "libresponsesws" in os.path.basename(path)]
    if [os.path.realpath(path) for path in loaded] != [os.path.realpath(bundled)]:
        fail(f"expected the bundled {bundled} to be the only libresponsesws loaded, found {loaded}")
    swift = [path for path in mapped_files() if "libswift" in path or "/swift" in path]
    if swift:
        fail(f"Swift runtime files are mapped: {swift}")
    version = responses_ws.library_version()
    if version != expected:
        fail(f"library_version() is {version!r}, expected {expected!r}")
    print(f"responses_ws {responses_ws.__version__} from {package_dir}")
    print(f"library: {loaded[0]} (bundled), version {version}, no libswift mapped")


def one_turn(base_url: str) -> str:
    import responses_ws

    text: List[str] = []
    with responses_ws.Client(base_url=base_url, api_key=API_KEY) as client:
        with client.session(defaults={"model": "gpt-5.6", "store": False}) as session:
            for event in session.turn({"input": "Hello from the wheel"}):
                if event.delta:
                    text.append(event.delta)
    if not text:
        fail(f"the turn against {base_url} streamed no text")
    return "".join(text)


def bundled_sim() -> None:
    """The wheel's simulator: its first line says where it listens (read, not waited for)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "responses_ws.sim", "--port", "0", "--tokens-per-second", "0"],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        prefix = "listening ws://127.0.0.1:"
        if not line.startswith(prefix):
            fail(f"python -m responses_ws.sim printed {line!r} instead of '{prefix}PORT/v1'")
        port = int(line[len(prefix):].split("/")[0])
        text = one_turn(f"http://127.0.0.1:{port}/v1")
        print(f"bundled simulator (python -m responses_ws.sim) on port {port}: {text!r}")
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait()


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "installed":
        check_installed(sys.argv[2], sys.argv[3])
    elif len(sys.argv) == 3 and sys.argv[1] == "turn":
        print(f"turn against {sys.argv[2]}: {one_turn(sys.argv[2])!r}")
    elif len(sys.argv) == 2 and sys.argv[1] == "bundled-sim":
        bundled_sim()
    else:
        fail(str(__doc__))


if __name__ == "__main__":
    main()
