"""Applies the project's ABI policy to an abi-compliance-checker XML report (-report-format xml).

Usage: python3 abi_policy.py REPORT.xml
Prints one line per finding, "BREAK ..." or "NOTE ...", and exits 1 if any finding breaks the
ABI, else 0.

Policy (see packaging/README.md, "ABI policy"):
  - a removed function, any High or Medium problem, and any Low problem not listed below break;
  - allowed: added functions, fields appended to an options/result struct (the struct_size
    convention of responses_ws.h), the size change that comes with such an append, added
    constants, new values of the RWS_VERSION_* macros, and a *_INIT initializer macro that
    keeps its old values and appends the defaults of the appended fields.
"""
import sys
import xml.etree.ElementTree as ET

# Low-severity problem ids that are compatible by the header's conventions.
APPEND_IDS = {"Added_Field", "Added_Field_And_Size"}
SIZE_IDS = {"DataType_Size"}
CONSTANT_IDS = {"Changed_Constant"}
VERSION_CONSTANTS = {
    "RWS_VERSION_MAJOR", "RWS_VERSION_MINOR", "RWS_VERSION_PATCH", "RWS_VERSION_STRING",
}
ALWAYS_OK_IDS = {"Added_Constant"}


def appends_initializer(change) -> bool:
    """An *_INIT macro whose new braces start with every old value, then add more."""
    if change is None or not (change.get("target") or "").endswith("_INIT"):
        return False
    old = (change.get("old_value") or "").strip()
    new = (change.get("new_value") or "").strip()
    if not (old.endswith("}") and new.endswith("}")):
        return False
    head = old[:-1].rstrip()
    return new.startswith(head) and new[len(head):].lstrip().startswith(",")


def describe(problem: ET.Element) -> str:
    change = problem.find("change")
    text = (change.text or "").strip() if change is not None else ""
    for key, value in (change.attrib.items() if change is not None else []):
        text = text.replace("@" + key, value)
    return f"{problem.get('id')}: {text}"


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    root = ET.parse(sys.argv[1]).getroot()
    findings = {}  # message -> "BREAK" or "NOTE"; both reports repeat many findings

    for report in root.findall("report"):
        kind = report.get("kind")
        for name in report.findall("removed_symbols//name"):
            findings[f"function {name.text.strip()} was removed ({kind})"] = "BREAK"
        for name in report.findall("added_symbols//name"):
            findings[f"function {name.text.strip()} was added"] = "NOTE"
        for section in report:
            if not section.tag.startswith("problems_with_"):
                continue
            severity = section.get("severity")
            for owner in section.iter():
                if owner.tag not in ("type", "symbol", "constant") or owner.find("problem") is None:
                    continue
                problems = owner.findall("problem")
                ids = {p.get("id") for p in problems}
                appended = bool(ids & APPEND_IDS)
                for problem in problems:
                    pid = problem.get("id")
                    target = (problem.find("change").get("target") if problem.find("change") is not None else None)
                    where = f"{owner.tag} {owner.get('name')}"
                    message = f"{where}: {describe(problem)} [{kind}, {severity}]"
                    compatible = severity == "Safe" or pid in ALWAYS_OK_IDS or (
                        severity == "Low" and (
                            pid in APPEND_IDS
                            or (pid in SIZE_IDS and appended)
                            or (pid in CONSTANT_IDS and (target or owner.get("name")) in VERSION_CONSTANTS)
                            or (pid in CONSTANT_IDS and appends_initializer(problem.find("change")))
                        )
                    )
                    if findings.get(message) != "BREAK":
                        findings[message] = "NOTE" if compatible else "BREAK"

    for message, verdict in sorted(findings.items(), key=lambda kv: (kv[1] != "BREAK", kv[0])):
        print(f"{verdict} {message}")
    return 1 if "BREAK" in findings.values() else 0


if __name__ == "__main__":
    sys.exit(main())
