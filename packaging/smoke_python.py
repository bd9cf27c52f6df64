"""Smoke checks of an installed libresponsesws from Python, run by packaging/test-installed.sh.

Usage:
  python3 smoke_python.py ctypes EXPECTED_VERSION
      loads $RESPONSES_WS_LIBRARY with ctypes and checks rws_version()
  python3 smoke_python.py package EXPECTED_VERSION BASE_URL
      imports the responses_ws binding (which honours $RESPONSES_WS_LIBRARY) and runs one turn

Exits 0 on success, 1 with a message naming what failed.
"""
import ctypes
import os
import sys


def fail(message: str) -> None:
    print(f"smoke_python: error: {message}", file=sys.stderr)
    sys.exit(1)


def check_ctypes(expected: str) -> None:
    path = os.environ.get("RESPONSES_WS_LIBRARY")
    if not path:
        fail("RESPONSES_WS_LIBRARY is not set")
    try:
        lib = ctypes.CDLL(path)
    except OSError as error:
        fail(f"cannot load {path}: {error}")
    lib.rws_version.restype = ctypes.c_char_p
    lib.rws_version.argtypes = []
    version = lib.rws_version().decode()
    if version != expected:
        fail(f"rws_version() is {version!r}, expected {expected!r}")
    print(f"python ctypes: loaded {path}, rws_version() = {version}")


def check_package(expected: str, base_url: str) -> None:
    try:
        import responses_ws
    except ImportError as error:
        fail(f"cannot import responses_ws from {sys.executable}: {error}")
    version = responses_ws.library_version()
    if version != expected:
        fail(f"responses_ws.library_version() is {version!r}, expected {expected!r}")
    text = []
    with responses_ws.Client(base_url=base_url, api_key="sk-local-simulator") as client:
        with client.session(defaults={"model": "gpt-5.6", "store": False}) as session:
            for event in session.turn({"input": "Hello"}):
                if event.delta:
                    text.append(event.delta)
    if not "".join(text):
        fail("the turn through the responses_ws package streamed no text")
    print(f"python package: one turn through responses_ws streamed {len(''.join(text))} characters")


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "ctypes":
        check_ctypes(sys.argv[2])
    elif len(sys.argv) == 4 and sys.argv[1] == "package":
        check_package(sys.argv[2], sys.argv[3])
    else:
        fail(__doc__)


if __name__ == "__main__":
    main()
