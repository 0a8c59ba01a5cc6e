#!/usr/bin/python3
"""Where pam_authenticate's time goes, from `perf script` output of a run
recorded with --call-graph dwarf (stdin).

  perf script | perf_split.py [ANCHOR [PHASE_FN [TOP]]]

Only samples whose stack holds ANCHOR (default pam_authenticate) count.
Prints (1) the direct callees of PHASE_FN (default ftpam_authenticate: the
phases of one flowtotp login) with their share of ANCHOR's samples,
(2) the functions with the largest inclusive share, (3) kernel versus
user time."""

import collections
import re
import sys

FRAME = re.compile(r"^\s*[0-9a-f]+\s+(.*?)\s+\((.*)\)\s*$")


def samples(lines):
    stack = []
    for line in lines:
        if not line.strip():
            if stack:
                yield stack
            stack = []
            continue
        m = FRAME.match(line)
        if m:
            sym = re.sub(r"\+0x[0-9a-f]+$", "", m.group(1))
            dso = m.group(2).rsplit("/", 1)[-1]
            stack.append((sym, dso))
    if stack:
        yield stack


def main(argv):
    anchor = argv[1] if len(argv) > 1 else "pam_authenticate"
    phase_fn = argv[2] if len(argv) > 2 else "ftpam_authenticate"
    top = int(argv[3]) if len(argv) > 3 else 25
    total = 0
    incl = collections.Counter()
    phases = collections.Counter()
    kernel = 0
    for st in samples(sys.stdin):
        names = [s for s, _ in st]
        if anchor not in names:
            continue
        total += 1
        above = st[:names.index(anchor)]      # leaf .. just below anchor
        if st[0][1] == "[kernel.kallsyms]":
            kernel += 1
        for key in {"%s (%s)" % (s, d) for s, d in above}:
            incl[key] += 1
        if phase_fn in names[:names.index(anchor)]:
            i = names.index(phase_fn)
            phases[names[i - 1] if i > 0 else "(self)"] += 1
    if total == 0:
        print("no samples under %s" % anchor)
        return
    pct = lambda n: 100.0 * n / total
    print("%d samples under %s; kernel %.0f%%, user %.0f%%"
          % (total, anchor, pct(kernel), pct(total - kernel)))
    if phases:
        print("-- direct callees of %s (%% of %s):" % (phase_fn, anchor))
        for k, n in phases.most_common(top):
            print("  %5.1f%%  %s" % (pct(n), k))
    print("-- inclusive, top %d (%% of %s):" % (top, anchor))
    for k, n in incl.most_common(top):
        print("  %5.1f%%  %s" % (pct(n), k))


if __name__ == "__main__":
    main(sys.argv)
