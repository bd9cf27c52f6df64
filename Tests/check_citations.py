#!/usr/bin/env python3
"""Checks that every section citation in the repository names a section that exists.

Usage: Tests/check_citations.py [--root DIR]   check the git tree at DIR (default: this repo)
       Tests/check_citations.py --self-test    prove the checker catches what it should

Scans every tracked text file (`git ls-files`) for citations "\u00a7N" or "\u00a7N.N...":
  - "RFC 6455 \u00a75.2" cites a standard and is not checked;
  - "BUILDING.md \u00a76" must name a heading of docs/BUILDING.md;
  - any other citation must name a heading of docs/PROTOCOL.md. Inside docs/BUILDING.md itself a
    bare citation names a section of that file.
Citations chained to a prefix ("RFC 6455 \u00a75.5.1, \u00a77.4", "BUILDING.md \u00a71, \u00a76",
"\u00a75.2\u2013\u00a75.4") share its meaning. A heading is a Markdown heading starting with its
number ("### 5.2 The connection-local continuation cache", "## 5. Semantics"); headings inside
code fences do not count. In Markdown other than those two documents, prose names the document
("PROTOCOL.md \u00a75.2"): a bare citation there is reported. Markdown links to a heading of
either document by anchor (GitHub's: "52-the-connection-local-continuation-cache") must match a
heading.

Also fails on any mention of the research files the repository once cited but does not contain,
so that a reader can follow every reference. Plain python3, no dependencies.
"""
import os
import re
import subprocess
import sys
import tempfile

SECTION = "\u00a7"
NUMBER = SECTION + r"\s?(\d+(?:\.\d+)*)"
# A citation with an optional prefix, and the citations chained to it.
CITATION = re.compile(
    r"(?:(?P<prefix>RFC\s?\d+|BUILDING\.md|PROTOCOL\.md)\s*)?" + NUMBER
    + r"(?:\s*(?:,|/|\u2013|\u2014|-|\bor\b|\band\b)\s*" + NUMBER + r")*"
)
SECTION_NUMBER = re.compile(NUMBER)
HEADING = re.compile(r"^#{1,6}\s+(.*?)\s*$")
HEADING_NUMBER = re.compile(r"^(\d+(?:\.\d+)*)\.?(?:\s|$)")
# Markdown links to a heading of one of the two documents, by its anchor.
ANCHOR_LINK = re.compile(r"\b(PROTOCOL|BUILDING)\.md#([^)\s>]+)")

PROTOCOL_DOC = "docs/PROTOCOL.md"
BUILDING_DOC = "docs/BUILDING.md"

# Files outside the repository that code and docs used to cite. Built from pieces so that this
# file does not mention them itself (a grep for them over the repository must come back empty).
OUTSIDE_REFERENCES = [
    "RESPONSES_WS" + ".md",
    "DESIGN" + ".md",
    "BUILD_" + "RECIPE",
    "PEERS" + ".md",
    "../" + "shared",
    "shared" + "/",
]


def tracked_text_files(root):
    """(path, text) of every tracked file that exists and is UTF-8 text."""
    out = subprocess.run(["git", "-C", root, "ls-files", "-z"], check=True,
                         stdout=subprocess.PIPE).stdout
    for path in sorted(p for p in out.decode("utf-8").split("\0") if p):
        full = os.path.join(root, path)
        if os.path.islink(full) or not os.path.isfile(full):
            continue
        with open(full, "rb") as f:
            data = f.read()
        if b"\0" in data:
            continue
        try:
            yield path, data.decode("utf-8")
        except UnicodeDecodeError:
            continue


def anchor(title):
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces as hyphens."""
    return re.sub(r"[^\w\- ]", "", title.lower()).replace(" ", "-")


def headings(root, doc):
    """(section numbers, anchors) of a document's headings, outside code fences; empty sets if
    the document is missing."""
    numbers, anchors = set(), set()
    try:
        with open(os.path.join(root, doc), encoding="utf-8") as f:
            lines = f.read().splitlines()
    except FileNotFoundError:
        return numbers, anchors
    fenced = False
    for line in lines:
        if line.startswith("```"):
            fenced = not fenced
        elif not fenced and (m := HEADING.match(line)):
            anchors.add(anchor(m.group(1)))
            if n := HEADING_NUMBER.match(m.group(1)):
                numbers.add(n.group(1))
    return numbers, anchors


def check(root):
    """Returns (number of checked citations, list of problems as "file:line: text")."""
    sections, anchors = {}, {}
    for doc in (PROTOCOL_DOC, BUILDING_DOC):
        sections[doc], anchors[doc] = headings(root, doc)
    checked = 0
    problems = []
    for path, text in tracked_text_files(root):
        for number, line in enumerate(text.splitlines(), start=1):
            for name in OUTSIDE_REFERENCES:
                if name in line:
                    problems.append(f"{path}:{number}: refers to {name}, which is not in the repository")
            for match in ANCHOR_LINK.finditer(line):
                doc = "docs/" + match.group(1) + ".md"
                if match.group(2) not in anchors[doc]:
                    problems.append(f"{path}:{number}: {doc} has no heading for the link anchor #{match.group(2)}")
            for match in CITATION.finditer(line):
                prefix = match.group("prefix") or ""
                if prefix.startswith("RFC"):
                    continue
                if not prefix and path.endswith(".md") and path not in (PROTOCOL_DOC, BUILDING_DOC):
                    # Prose names the document; a bare section sign is for code comments.
                    problems.append(f"{path}:{number}: write PROTOCOL.md {match.group(0)} (a bare "
                                    f"{SECTION} is for code comments)")
                if prefix == "BUILDING.md" or (not prefix and path == BUILDING_DOC):
                    doc, label = BUILDING_DOC, "BUILDING.md "
                else:
                    doc, label = PROTOCOL_DOC, ""
                for cited in SECTION_NUMBER.findall(match.group(0)):
                    checked += 1
                    if cited not in sections[doc]:
                        problems.append(f"{path}:{number}: {label}{SECTION}{cited} does not exist in {doc}")
    return checked, problems


def report(root):
    checked, problems = check(root)
    for problem in problems:
        print(problem)
    if problems:
        print(f"{len(problems)} problem(s); {checked} citations checked")
        return 1
    print(f"{checked} citations, all resolve")
    return 0


def self_test():
    """Runs the checker on a small tree with known good and bad citations and compares."""
    s = SECTION
    doc = "PROTOCOL.md"  # not spelled out before the anchors: this file is scanned too
    files = {
        PROTOCOL_DOC: "# Notes\n## 1. One\n### 1.1 Sub\n### 1.2 `other.thing`, too\n"
                      "```\n## 3. Not a heading (fenced)\n```\n",
        BUILDING_DOC: f"# Build\n## 2. Two\n### 2.1 Flags\nsee {s}2 above\n",
        "a.c": (f"/* good: {s}1.1, {s}1.2\u2013{s}1, BUILDING.md {s}2, {s}2.1 and RFC 6455 {s}9.9, {s}8.8 */\n"
                f"/* bad: {s}3.4; {s}3 is only in a code fence */\n"),
        "b.md": (f"fine\nSee [BUILDING.md {s}7](docs/BUILDING.md) and PROTOCOL.md {s}1.\n"
                 f"A bare {s}1.1 in prose.\n"
                 f"[ok](docs/{doc}#12-otherthing-too) [bad]({doc}#12-other) "
                 f"[fenced](docs/{doc}#3-not-a-heading-fenced)\n"),
        "c.txt": "see " + OUTSIDE_REFERENCES[4] + "/protocol/notes\n",
        "blob.bin": "\0" + f"{s}9.9\n",
    }
    # Expected: the two bad citations of a.c (one names a heading inside a code fence), b.md's
    # into BUILDING.md, its bare one in prose and its two bad anchors, and c.txt's outside
    # reference (two patterns match it). Everything else resolves, cites an RFC, or is binary.
    expected = [
        f"a.c:2: {s}3.4 does not exist in {PROTOCOL_DOC}",
        f"a.c:2: {s}3 does not exist in {PROTOCOL_DOC}",
        f"b.md:2: BUILDING.md {s}7 does not exist in {BUILDING_DOC}",
        f"b.md:3: write PROTOCOL.md {s}1.1 (a bare {s} is for code comments)",
        f"b.md:4: {PROTOCOL_DOC} has no heading for the link anchor #12-other",
        f"b.md:4: {PROTOCOL_DOC} has no heading for the link anchor #3-not-a-heading-fenced",
        "c.txt:1: refers to ../" + "shared, which is not in the repository",
        "c.txt:1: refers to shared" + "/, which is not in the repository",
    ]
    # Checked: 5 in a.c's first line (the last one chained to its BUILDING.md prefix), 2 in its
    # second, the bare one inside BUILDING.md, and 3 in b.md. The RFC ones are not checked.
    expected_checked = 11
    with tempfile.TemporaryDirectory() as root:
        for path, text in files.items():
            os.makedirs(os.path.dirname(os.path.join(root, path)), exist_ok=True)
            with open(os.path.join(root, path), "w", encoding="utf-8") as f:
                f.write(text)
        subprocess.run(["git", "-c", "init.defaultBranch=main", "init", "-q", root], check=True)
        subprocess.run(["git", "-C", root, "add", "-A"], check=True)
        checked, problems = check(root)
    ok = sorted(problems) == sorted(expected) and checked == expected_checked
    if not ok:
        print("check_citations self-test FAILED")
        print(f"  expected {expected_checked} citations and:", *expected, sep="\n    ")
        print(f"  got {checked} citations and:", *problems, sep="\n    ")
        return 1
    print(f"check_citations self-test: ok (the {len(expected)} planted problems found, nothing else)")
    return 0


def main(argv):
    if argv == ["--self-test"]:
        return self_test()
    if len(argv) == 2 and argv[0] == "--root":
        return report(argv[1])
    if not argv:
        return report(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    print(__doc__.split("\n\n")[1], file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
