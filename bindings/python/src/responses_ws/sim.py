"""The ``rws sim`` simulator that the Linux wheel ships next to the library.

``python -m responses_ws.sim [flags]`` runs ``rws sim [flags]`` (``--help`` lists them; its first
line is ``listening ws://127.0.0.1:PORT/v1``), so code can be tried against a local server without
a Swift toolchain or an API key. An install from the source tree has no bundled ``rws``: build it
with ``swift build -c release`` and run ``.build/release/rws sim`` instead.
"""

from __future__ import annotations

import os
import sys
from typing import List, NoReturn, Optional

#: Where the wheel puts the executable, relative to this package.
BUNDLED_RWS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "bin", "rws")


def executable() -> str:
    """The path of the bundled ``rws``; raises FileNotFoundError when this install has none."""
    if not os.path.isfile(BUNDLED_RWS):
        raise FileNotFoundError(
            f"{BUNDLED_RWS}: no bundled rws (only the Linux wheel ships it); "
            "build it with 'swift build -c release' and run '.build/release/rws sim'"
        )
    if not os.access(BUNDLED_RWS, os.X_OK):
        raise PermissionError(f"{BUNDLED_RWS} is not executable (the wheel was unpacked without file modes)")
    return BUNDLED_RWS


def main(argv: Optional[List[str]] = None) -> NoReturn:
    """Replaces this process with ``rws sim ARGS``: signals and the exit status are the simulator's own."""
    args = sys.argv[1:] if argv is None else argv
    try:
        path = executable()
    except OSError as error:
        print(f"responses_ws.sim: {error}", file=sys.stderr)
        sys.exit(2)
    sys.stdout.flush()
    os.execv(path, [path, "sim", *args])


if __name__ == "__main__":
    main()
