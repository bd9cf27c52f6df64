"""Writes a C program that prints the parts of responses_ws.h abi-compliance-checker misses.

Usage: python3 abi_probe.py HEADER > probe.c; cc -I<dir of HEADER> probe.c -o probe; ./probe
The program prints, one per line:
  enum NAME VALUE                       every constant of the header's (anonymous) enums
  field STRUCT INDEX NAME OFFSET SIZE   every field of every struct, in declaration order
abi-compliance-checker does not report renumbered anonymous-enum constants, and it accepts a
field inserted into padding in the middle of a struct; packaging/abi-check.sh compares these
lines with the baseline instead (fields may only be appended).
"""
import re
import sys


def strip_comments(text: str) -> str:
    return re.sub(r"/\*.*?\*/", " ", text, flags=re.S)


def main() -> None:
    text = strip_comments(open(sys.argv[1]).read())
    out = ['#include <stddef.h>', '#include <stdio.h>', '#include "responses_ws.h"', "int main(void) {"]
    for body in re.findall(r"\benum\s*\{(.*?)\}", text, re.S):
        for name in re.findall(r"\b(RWS_[A-Z0-9_]+)\s*(?:=[^,]*)?(?:,|$)", body):
            out.append(f'    printf("enum %s %lld\\n", "{name}", (long long){name});')
    for struct, body in re.findall(r"\btypedef\s+struct\s+(\w+)\s*\{(.*?)\}\s*\w+\s*;", text, re.S):
        for index, declaration in enumerate(d for d in body.split(";") if d.strip()):
            field = re.findall(r"\w+", declaration)[-1]
            out.append(
                f'    printf("field %s %d %s %zu %zu\\n", "{struct}", {index}, "{field}", '
                f"offsetof(struct {struct}, {field}), sizeof(((struct {struct} *)0)->{field}));"
            )
    out += ["    return 0;", "}"]
    print("\n".join(out))


if __name__ == "__main__":
    main()
