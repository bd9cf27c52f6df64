#!/usr/bin/env python3
"""Runs the code snippets of the READMEs against `rws sim`, so that none can go stale.

Every fenced block in README.md, bindings/python/README.md and bindings/rust/README.md must be
preceded by a marker line saying what to do with it (a block without one fails the run):

    <!-- snippet: run -->                 compile/run it as it is (c, python, rust with fn main, sh)
    <!-- snippet: run rust-fragment -->   Rust statements: run inside a main that has `client`,
                                          `session`, `request`, `call_id` and `output` in scope
    <!-- snippet: run rust-async -->      Rust statements with .await: the same, in an async block
                                          driven by a minimal std-only executor
    <!-- snippet: skip: REASON -->        not run; the reason is printed

Snippets talk to the simulator as a reader would to `rws sim --port 8080`: the runner starts one
on a free port of 127.0.0.1, replaces `http://127.0.0.1:8080/v1` in the text with its URL, and
sets OPENAI_BASE_URL / OPENAI_API_KEY for those that read the environment. A snippet passes when
it exits 0. Programs are built under .build/snippets.

Usage: python3 Tests/run_snippets.py [--list] [FILE...]
Environment: RWS_BIN (.build/release/rws), RWS_LIB_DIR (.build/release), PYTHON (.venv/bin/python,
with responses_ws installed).
"""
import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FILES = ["README.md", "bindings/python/README.md", "bindings/rust/README.md"]
SCRATCH = ROOT / ".build" / "snippets"
MARKER = re.compile(r"^<!-- snippet: (run(?: (?P<kind>[a-z-]+))?|skip: (?P<reason>.+?)) -->$")
FENCE = re.compile(r"^```(?P<lang>[a-z]*)\s*$")
README_URL = "http://127.0.0.1:8080/v1"
TIMEOUT = 300

RUST_FRAGMENT = """#![allow(unused)]
use responses_ws::*;
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let base_url = std::env::var("OPENAI_BASE_URL")?;
    let client = Client::builder().base_url(&base_url).api_key("sk-local").build()?;
    let session = client.session()?;
    let request = Request::new("gpt-5.6").input("Hello!");
    let (call_id, output) = (String::from("call_1"), String::from("42"));
    {
SNIPPET
    }
    Ok(())
}
"""

# A minimal executor: the snippet's future is polled on this thread, which parks until the
# library's waker thread unparks it (no busy wait).
RUST_ASYNC = """#![allow(unused)]
use responses_ws::*;
use std::future::Future;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

struct Unpark(std::thread::Thread);
impl Wake for Unpark {
    fn wake(self: Arc<Self>) { self.0.unpark(); }
}

fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    loop {
        if let Poll::Ready(value) = future.as_mut().poll(&mut cx) { return value; }
        std::thread::park();
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let base_url = std::env::var("OPENAI_BASE_URL")?;
    let client = Client::builder().base_url(&base_url).api_key("sk-local").build()?;
    let session = client.session()?;
    block_on(async move {
SNIPPET
        Ok::<(), Box<dyn std::error::Error>>(())
    })
}
"""


class Snippet:
    def __init__(self, path, line, lang, marker, text):
        self.path, self.line, self.lang, self.text = path, line, lang, text
        match = MARKER.match(marker or "")
        self.marked = match is not None
        self.kind = match.group("kind") if match and match.group(1).startswith("run") else None
        self.run = bool(match and match.group(1).startswith("run"))
        self.reason = match.group("reason") if match else None

    @property
    def name(self):
        return f"{self.path}:{self.line}"

    @property
    def slug(self):
        return re.sub(r"[^a-z0-9]+", "_", self.name.lower()).strip("_")


def snippets_of(path):
    lines = (ROOT / path).read_text().splitlines()
    found, i = [], 0
    while i < len(lines):
        fence = FENCE.match(lines[i])
        if not fence:
            i += 1
            continue
        start = i
        end = i + 1
        while end < len(lines) and not lines[end].startswith("```"):
            end += 1
        previous = next((lines[j] for j in range(start - 1, -1, -1) if lines[j].strip()), None)
        found.append(Snippet(path, start + 1, fence.group("lang"), previous, "\n".join(lines[start + 1:end]) + "\n"))
        i = end + 1
    return found


class Simulator:
    def __init__(self, rws):
        self.process = subprocess.Popen([rws, "sim", "--host", "127.0.0.1", "--port", "0"],
                                        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        first = self.process.stdout.readline()   # waits for the listening line itself
        match = re.match(r"listening ws://127\.0\.0\.1:(\d+)/v1", first)
        if not match:
            self.stop()
            raise SystemExit(f"run_snippets.py: rws sim did not start (first line {first!r})")
        self.base_url = f"http://127.0.0.1:{match.group(1)}/v1"

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=30)


class Runner:
    def __init__(self, sim, env):
        self.sim, self.env = sim, env
        self.lib_dir = env["RWS_LIB_DIR"]

    def text(self, snippet):
        return snippet.text.replace(README_URL, self.sim.base_url)

    def execute(self, argv, cwd=ROOT):
        done = subprocess.run(argv, cwd=cwd, env=self.env, capture_output=True, text=True, timeout=TIMEOUT)
        return done.returncode, done.stdout + done.stderr

    def c(self, snippet):
        source = SCRATCH / f"{snippet.slug}.c"
        source.write_text(self.text(snippet))
        program = SCRATCH / snippet.slug
        status, output = self.execute(["cc", "-std=c99", "-Wall", "-Werror", f"-I{ROOT}/include", str(source),
                                       f"-L{self.lib_dir}", "-lresponsesws", f"-Wl,-rpath,{self.lib_dir}", "-o", str(program)])
        return (status, output) if status else self.execute([str(program)])

    def python(self, snippet):
        if not os.access(self.env["PYTHON"], os.X_OK):
            return 1, f"PYTHON={self.env['PYTHON']} is not an executable Python with responses_ws installed"
        source = SCRATCH / f"{snippet.slug}.py"
        source.write_text(self.text(snippet))
        return self.execute([self.env["PYTHON"], str(source)], cwd=SCRATCH)

    def sh(self, snippet):
        return self.execute(["bash", "-euo", "pipefail", "-c", self.text(snippet)])

    def rust(self, snippet):
        templates = {None: "SNIPPET", "rust-fragment": RUST_FRAGMENT, "rust-async": RUST_ASYNC}
        body = self.text(snippet)
        if snippet.kind in templates and snippet.kind is not None:
            body = templates[snippet.kind].replace("SNIPPET", body)
        crate = SCRATCH / "rust" / snippet.slug
        (crate / "src").mkdir(parents=True, exist_ok=True)
        (crate / "Cargo.toml").write_text(
            f'[package]\nname = "snippet"\nversion = "0.0.0"\nedition = "2021"\npublish = false\n\n'
            f'[dependencies]\nresponses-ws = {{ path = "{ROOT}/bindings/rust" }}\n\n[workspace]\n')
        (crate / "src" / "main.rs").write_text(body)
        env_rpath = dict(self.env, RUSTFLAGS=f"-C link-arg=-Wl,-rpath,{self.lib_dir}",
                         CARGO_TARGET_DIR=str(SCRATCH / "rust-target"), RESPONSESWS_LIB_DIR=self.lib_dir)
        done = subprocess.run(["cargo", "run", "--offline", "--quiet"], cwd=crate, env=env_rpath,
                              capture_output=True, text=True, timeout=TIMEOUT)
        return done.returncode, done.stdout + done.stderr

    def run(self, snippet):
        language = {"c": self.c, "python": self.python, "sh": self.sh, "rust": self.rust}.get(snippet.lang)
        if language is None:
            return 1, f"no way to run a ```{snippet.lang} block: mark it skip with a reason"
        return language(snippet)


def main(argv):
    listing = "--list" in argv
    files = [a for a in argv if not a.startswith("--")] or FILES
    snippets = [s for path in files for s in snippets_of(path)]
    unmarked = [s for s in snippets if not s.marked]
    for s in unmarked:
        print(f"FAIL {s.name} ```{s.lang}: no <!-- snippet: run --> or <!-- snippet: skip: reason --> line before it")
    if listing:
        for s in snippets:
            print(f"{'run ' if s.run else 'skip'} {s.name} {s.lang} {s.kind or s.reason or ''}")
        return 1 if unmarked else 0

    SCRATCH.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    env.setdefault("RWS_LIB_DIR", str(ROOT / ".build" / "release"))
    env.setdefault("RWS_BIN", str(ROOT / ".build" / "release" / "rws"))
    env.setdefault("PYTHON", str(ROOT / ".venv" / "bin" / "python"))
    env["RESPONSES_WS_LIBRARY"] = str(Path(env["RWS_LIB_DIR"]) / "libresponsesws.so.0")
    env["PATH"] = str(Path(env["RWS_BIN"]).parent) + os.pathsep + env["PATH"]
    sim = Simulator(env["RWS_BIN"])
    env.update(OPENAI_BASE_URL=sim.base_url, OPENAI_API_KEY="sk-local")
    runner = Runner(sim, env)
    failed, ran, skipped = len(unmarked), 0, 0
    try:
        for s in snippets:
            if not s.marked:
                continue
            if not s.run:
                skipped += 1
                print(f"skip {s.name} ```{s.lang}: {s.reason}")
                continue
            started = time.monotonic()
            status, output = runner.run(s)
            ran += 1
            took = time.monotonic() - started
            if status == 0:
                print(f"ok   {s.name} ```{s.lang} ({took:.1f} s)")
            else:
                failed += 1
                print(f"FAIL {s.name} ```{s.lang}: exit {status} ({took:.1f} s)\n" + "\n".join("     | " + l for l in output.splitlines()[-30:]))
    finally:
        sim.stop()
    print(f"snippets: {ran} ran, {skipped} skipped with a reason, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
