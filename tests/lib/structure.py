#!/usr/bin/env python3
"""The shape rules of the product code, checked on the built objects and the
sources (tests/suites/structure.sh runs it; TAP on stdout).

  calls   In each layer (common/, pam_module/, cli/) the graph of which
          object file calls which, from nm's defined and undefined symbols,
          has no cycle; common/ calls into neither face.
  length  No function body is longer than MAX_BODY lines.
  params  No function takes more than MAX_PARAMS parameters.

The source rules lean on clang-format (enforced by the test command): a
function definition has its name at the start of a line and its braces alone
on their lines at the start of a line, so a scan of lines finds every one.
"""
import os
import re
import subprocess
import sys

MAX_BODY = 60
MAX_PARAMS = 6
LAYERS = ("common", "pam_module", "cli")
# The objects of the installed programs (the test builds link the same
# sources): libtool's PIC objects for the library and the module.
OBJ_PREFIX = {
    "common": ("common/.libs", "libflowtotp_la-"),
    "pam_module": ("pam_module/.libs", "pam_flowtotp_la-"),
    "cli": ("cli", "totp_enroll-"),
}

n = 0
failed = 0


def point(good, desc, details=()):
    global n, failed
    n += 1
    print(("ok" if good else "not ok"), n, "-", desc)
    if not good:
        failed += 1
        for d in details:
            print("#  ", d)


def nm_symbols(path):
    out = subprocess.run(["nm", "--defined-only", "-g", path],
                         capture_output=True, text=True, check=True).stdout
    defined = {l.split()[-1] for l in out.splitlines() if len(l.split()) == 3}
    out = subprocess.run(["nm", "-u", path], capture_output=True, text=True,
                         check=True).stdout
    undef = {l.split()[-1] for l in out.splitlines() if l.strip()}
    return defined, undef


def layer_objects(builddir, layer):
    sub, prefix = OBJ_PREFIX[layer]
    d = os.path.join(builddir, sub)
    objs = {}
    for name in sorted(os.listdir(d)):
        if name.startswith(prefix) and name.endswith(".o"):
            objs[name[len(prefix):-2]] = os.path.join(d, name)
    # The real clock belongs to common/ but is linked into each face.
    if layer == "common":
        clock = os.path.join(builddir, "common", "totp_enroll-clock_real.o")
        if os.path.exists(clock):
            objs["clock_real"] = clock
    return objs


def find_cycle(graph):
    """A list of nodes forming a cycle, or None (depth-first search)."""
    state = {}
    stack = []

    def visit(v):
        state[v] = 1
        stack.append(v)
        for w in sorted(graph[v]):
            if state.get(w) == 1:
                return stack[stack.index(w):] + [w]
            if w not in state:
                c = visit(w)
                if c:
                    return c
        stack.pop()
        state[v] = 2
        return None

    for v in sorted(graph):
        if v not in state:
            c = visit(v)
            if c:
                return c
    return None


def check_calls(builddir):
    syms = {}
    for layer in LAYERS:
        objs = layer_objects(builddir, layer)
        point(len(objs) > 0, "%s: %d objects found" % (layer, len(objs)))
        syms[layer] = {f: nm_symbols(p) for f, p in objs.items()}
    for layer in LAYERS:
        owner = {}
        for f, (defined, _) in syms[layer].items():
            for s in defined:
                owner[s] = f
        graph = {f: set() for f in syms[layer]}
        for f, (_, undef) in syms[layer].items():
            for s in undef:
                if s in owner and owner[s] != f:
                    graph[f].add(owner[s])
        cycle = find_cycle(graph)
        point(cycle is None, "%s: calls between files go one way" % layer,
              [" -> ".join(cycle)] if cycle else [])
    faces = {}
    for layer in ("pam_module", "cli"):
        for f, (defined, _) in syms[layer].items():
            for s in defined:
                faces[s] = "%s/%s" % (layer, f)
    back = sorted("common/%s uses %s of %s" % (f, s, faces[s])
                  for f, (_, undef) in syms["common"].items()
                  for s in undef if s in faces)
    point(not back, "common/ calls into neither the module nor the CLI", back)


NAME_RE = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)\(")


def functions(path):
    """(name, first line, body lines, parameter count) per definition."""
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    found = []
    i = 0
    while i < len(lines):
        if lines[i] != "{":
            i += 1
            continue
        j = i - 1
        while j >= 0 and not NAME_RE.match(lines[j]):
            j -= 1
        if j < 0:
            i += 1
            continue
        name = NAME_RE.match(lines[j]).group(1)
        sig = " ".join(lines[j:i])
        end = i + 1
        while end < len(lines) and lines[end] != "}":
            end += 1
        found.append((name, j + 1, end - i - 1, count_params(sig)))
        i = end + 1
    return found


def count_params(sig):
    start = sig.index("(")
    depth = 0
    params = ""
    for ch in sig[start:]:
        if ch == "(":
            depth += 1
            if depth == 1:
                continue
        elif ch == ")":
            depth -= 1
            if depth == 0:
                break
        params += ch if depth >= 1 else ""
    params = params.strip()
    if params in ("", "void"):
        return 0
    depth = 0
    count = 1
    for ch in params:
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        elif ch == "," and depth == 0:
            count += 1
    return count


def check_sources(srcdir):
    long_fns, wide_fns, total = [], [], 0
    for layer in LAYERS:
        d = os.path.join(srcdir, layer)
        for name in sorted(os.listdir(d)):
            if not name.endswith(".c"):
                continue
            rel = "%s/%s" % (layer, name)
            for fn, line, body, params in functions(os.path.join(d, name)):
                total += 1
                if body > MAX_BODY:
                    long_fns.append("%s:%d %s: %d lines" %
                                    (rel, line, fn, body))
                if params > MAX_PARAMS:
                    wide_fns.append("%s:%d %s: %d parameters" %
                                    (rel, line, fn, params))
    point(total > 100, "%d function definitions found" % total)
    point(not long_fns, "no function body over %d lines" % MAX_BODY,
          long_fns)
    point(not wide_fns, "no function with more than %d parameters" %
          MAX_PARAMS, wide_fns)


def main():
    srcdir = os.environ["top_srcdir"]
    builddir = os.environ["top_builddir"]
    check_calls(builddir)
    check_sources(srcdir)
    print("1..%d" % n)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
