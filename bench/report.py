#!/usr/bin/python3
"""Format bench/run.sh results (pam_bench "key=value" lines) as the table.

  report.py RESULTS MACHINE LOGINS REPEATS PROCS ROUNDS
  report.py --merge LABEL RAWFILE   (one result line from pam_bench -d
                                     samples of several driver processes)
  report.py --real RESULTS MACHINE REPEATS MEASURED STEPS
                                    (the bench/real.sh table)

Labels are MEASURE:MODULE:RUN.  Values over repeated runs are reduced to
their median; ratios are computed within each run, then the median taken.
"auth mean" is the median over runs of each run's mean."""

import statistics
import sys

NAMES = {
    "permit": "pam_permit",
    "ft": "pam_flowtotp (gdbm)",
    "ftr": "pam_flowtotp (redis)",
    "ga": "pam_google_authenticator",
    "oath": "pam_oath",
}
ORDER = ["permit", "ft", "ftr", "ga", "oath"]
TARGET_SUCCESS = 0.15
TARGET_FAILURE = 0.05
P99 = 0.99
FLAT_TOLERANCE = 1.5    # (e): 100k-user cost within 1.5x the 1k-user cost


def parse(path):
    rows = []
    with open(path) as f:
        for line in f:
            kv = dict(p.split("=", 1) for p in line.split() if "=" in p)
            if "label" not in kv or kv["label"].count(":") != 2:
                continue
            kv["measure"], kv["module"], kv["run"] = kv["label"].split(":")
            rows.append(kv)
    return rows


def med(values):
    return statistics.median(values) if values else float("nan")


def pick(rows, measure, module):
    return [r for r in rows if r["measure"] == measure and
            r["module"] == module]


def fmt(x, nd=0):
    if x != x:          # NaN
        return "-"
    return "%.*f" % (nd, x)


def size(n):
    n = float(n)
    for unit in ["B", "KiB", "MiB", "GiB"]:
        if n < 1024 or unit == "GiB":
            return "%.0f %s" % (n, unit) if unit == "B" else "%.1f %s" % (n, unit)
        n /= 1024


def seq_section(out, rows, measure, title, modules):
    out.append(title)
    hdr = ("  %-26s %9s %9s %9s %9s %9s %9s %8s %9s %5s" %
           ("module", "logins/s", "call med", "call p99", "auth med",
            "auth p99", "auth mean", "auth/GA", "accepted", "logs"))
    out.append(hdr)
    ga_by_run = {r["run"]: float(r["auth_med_us"])
                 for r in pick(rows, measure, "ga")}
    ratios = {}
    for m in modules:
        rs = pick(rows, measure, m)
        if not rs:
            continue
        ratio = med([float(r["auth_med_us"]) / ga_by_run[r["run"]]
                     for r in rs if r["run"] in ga_by_run])
        ratios[m] = ratio
        ok = sum(int(r["ok"]) for r in rs)
        n = sum(int(r["n"]) for r in rs)
        logs = sum(int(r.get("log_lines", 0)) for r in rs)
        out.append("  %-26s %9s %9s %9s %9s %9s %9s %8s %9s %5s" % (
            NAMES[m],
            fmt(med([float(r["logins_per_s"]) for r in rs])),
            fmt(med([float(r["total_med_us"]) for r in rs])),
            fmt(med([float(r["total_p99_us"]) for r in rs])),
            fmt(med([float(r["auth_med_us"]) for r in rs])),
            fmt(med([float(r["auth_p99_us"]) for r in rs])),
            fmt(med([float(r.get("auth_mean_us", "nan")) for r in rs])),
            fmt(ratio, 3), "%d/%d" % (ok, n), fmt(logs / n, 1)))
    return ratios


def quantile(v, q):
    v = sorted(v)
    if q == 0.5:
        return statistics.median(v)
    i = int(q * len(v) + 0.999999)
    return v[max(i - 1, 0)]


def merge(label, path):
    tot, au, pw, npw, ok, logs = [], [], [], 0, 0, 0
    with open(path) as f:
        for line in f:
            cols = line.split()
            tot.append(float(cols[0]))
            au.append(float(cols[1]))
            ok += int(cols[2])
            logs += int(cols[3])
            if len(cols) > 5:        # pam_bench -L: the login's lookups
                pw.append(float(cols[4]))
                npw += int(cols[5])
    n = len(tot)
    extra = ""
    if pw:
        rest = [a - p for a, p in zip(au, pw)]
        extra = (" pw_med_us=%.1f pw_mean_us=%.1f lookups=%.2f "
                 "nolk_med_us=%.1f nolk_mean_us=%.1f" % (
                     quantile(pw, 0.5), statistics.mean(pw), npw / n,
                     quantile(rest, 0.5), statistics.mean(rest)))
    print("label=%s mode=seq n=%d ok=%d fail=%d logins_per_s=%.0f "
          "total_med_us=%.1f total_p99_us=%.1f auth_med_us=%.1f "
          "auth_p99_us=%.1f auth_mean_us=%.1f log_lines=%d%s" % (
              label, n, ok, n - ok, n * 1e6 / sum(tot),
              quantile(tot, 0.5), quantile(tot, P99), quantile(au, 0.5),
              quantile(au, P99), statistics.mean(au), logs, extra))


def real_ratio(rows, measure, m, stat):
    """Median over runs of module/google for `stat` (auth_med_us,
    auth_mean_us, or nolk_*: pam_authenticate less the time the same
    login spent in passwd lookups)."""
    ga = {r["run"]: r for r in pick(rows, measure, "ga")}
    return med([float(r[stat]) / float(ga[r["run"]][stat])
                for r in pick(rows, measure, m) if r["run"] in ga])


def real_section(out, rows, measure, title, modules):
    out.append(title)
    out.append("  %-26s %9s %9s %9s %7s %9s %9s %8s %8s %8s %8s %9s" % (
        "module", "auth mean", "auth med", "auth p99", "lookups",
        "lk mean", "lk med", "mean/GA", "med/GA", "-lk mean", "-lk med",
        "accepted"))
    res = {}
    for m in modules:
        rs = pick(rows, measure, m)
        if not rs:
            continue
        col = lambda k, nd=1: fmt(med([float(r[k]) for r in rs]), nd)
        ratio = {s: real_ratio(rows, measure, m, s)
                 for s in ("auth_mean_us", "auth_med_us", "nolk_mean_us",
                           "nolk_med_us")}
        res[m] = ratio
        out.append("  %-26s %9s %9s %9s %7s %9s %9s %8s %8s %8s %8s %9s" % (
            NAMES[m], col("auth_mean_us"), col("auth_med_us"),
            col("auth_p99_us", 0), col("lookups", 2), col("pw_mean_us"),
            col("pw_med_us"), fmt(ratio["auth_mean_us"], 3),
            fmt(ratio["auth_med_us"], 3), fmt(ratio["nolk_mean_us"], 3),
            fmt(ratio["nolk_med_us"], 3),
            "%d/%d" % (sum(int(r["ok"]) for r in rs),
                       sum(int(r["n"]) for r in rs))))
    return res


def real_main(res, machine, repeats, measured, steps):
    """The real-/etc/passwd table (bench/real.sh)."""
    rows = parse(res)
    modules = [m for m in ORDER if pick(rows, "a", m)]
    out = ["Machine: " + machine, ""]
    head = ("(%%s) %%s path, real accounts (nss files), /etc/pam.d, "
            "pam_start: %s users x steps %s per run, medians over %s runs "
            "of each run's mean and median, times in us" % (
                measured, steps, repeats))
    ra = real_section(out, rows, "a", head % ("ra", "success"), modules)
    out.append("")
    rb = real_section(out, rows, "b", head % ("rb", "failure (wrong code)"),
                      modules)
    out.append("  (lookups: passwd lookups (getpwnam_r and kin) per login "
               "and lk their time inside pam_authenticate, timed by the "
               "driver; -lk: the ratio with each login's own lookup time "
               "taken out)")
    opens = {r["module"]: r["per_login"] for r in rows
             if r["measure"] == "lookups"}
    if opens:
        out.append("  (opens of /etc/passwd per login, strace: %s)" % ", ".join(
            "%s %s" % (NAMES[m], opens[m]) for m in modules if m in opens))
    out.append("")
    out.append("Targets on a real system (accounts in /etc/passwd):")
    for m in [x for x in ("ft",) if x in ra]:
        for what, rr, target in (("success", ra, TARGET_SUCCESS),
                                 ("failure", rb, TARGET_FAILURE)):
            for stat, name in (("auth_mean_us", "mean"),
                               ("auth_med_us", "median")):
                nolk = "nolk_" + stat.split("_")[1] + "_us"
                out.append("  %s %s %s/GA %.3f (%.3f without the lookups)"
                           " <= %.2f: %s" % (
                               NAMES[m], what, name, rr[m][stat],
                               rr[m][nolk], target,
                               "met" if rr[m][stat] <= target
                               else "MISSED"))
    print("\n".join(out))


def main(argv):
    if argv[1] == "--merge":
        merge(argv[2], argv[3])
        return
    if argv[1] == "--real":
        real_main(*argv[2:7])
        return
    res, machine, logins, repeats, procs, rounds = argv[1:7]
    global fill_jobs
    fill_jobs = argv[7] if len(argv) > 7 else "1"
    rows = parse(res)
    modules = [m for m in ORDER if pick(rows, "a", m)]
    out = ["Machine: " + machine, ""]
    ra = seq_section(out, rows, "a", "(a) success path: %s logins (each a "
                     "different user) per run, median of %s runs, times in "
                     "us" % (logins, repeats), modules)
    out.append("")
    rb = seq_section(out, rows, "b", "(b) failure path (wrong code): same "
                     "shape", modules)
    out.append("  (call: pam_start + pam_authenticate + pam_end; auth: "
               "pam_authenticate alone; logs: syslog lines per login)")
    if pick(rows, "a1", "ga"):
        out.append("")
        seq_section(out, rows, "a1", "(a1) success path, first login of a "
                    "fresh process (sshd, sudo and login authenticate one "
                    "user per process; libpam loads the module for it): %s "
                    "processes of one login per run" % pick(rows, "a1", "ga")
                    [0]["n"], modules)
    pw = pick(rows, "pw", "-")
    if pw:
        out.append("  (user lookup alone, getpwnam via nss_wrapper: median "
                   "%s us; pam_permit does none, the others one or more)"
                   % fmt(med([float(r["med_us"]) for r in pw]), 1))
    out.append("")
    out.append("(c) one user's same code sent by %s processes at once, %s "
               "rounds: successes per round" % (procs, rounds))
    cres = {}
    for m in modules:
        for r in pick(rows, "c", m):
            per = [int(x) for x in r["per_round"].split(",")]
            cres[m] = per
            out.append("  %-26s %s  (exactly 1 in %d/%d rounds)" % (
                NAMES[m], " ".join(map(str, per)),
                sum(1 for x in per if x == 1), len(per)))
    out.append("")
    out.append("(d) %s different users at once, %s rounds: successes per "
               "round" % (procs, rounds))
    dres = {}
    for m in modules:
        for r in pick(rows, "d", m):
            per = [int(x) for x in r["per_round"].split(",")]
            dres[m] = per
            out.append("  %-26s min %d, max %d of %s  (%d/%d rounds all "
                       "succeeded)" % (NAMES[m], min(per), max(per), procs,
                                       sum(1 for x in per if x == int(procs)),
                                       len(per)))
    out.append("")
    sizes = sorted({int(r["run"])
                    for r in rows if r["measure"] == "e"})
    eres = {}
    bad = []
    if sizes:
        out.append("(e) pam_authenticate median us with N enrolled users "
                   "(flowtotp: cache holding N users)")
        out.append("  %-26s " % "module" +
                   " ".join("%10s" % ("N=%d" % n) for n in sizes) +
                   "   last/first")
        for m in ["ft", "ga", "oath"]:
            vals = []
            for n in sizes:
                rs = [r for r in pick(rows, "e", m) if int(r["run"]) == n]
                vals.append(float(rs[0]["auth_med_us"]) if rs
                            else float("nan"))
                if rs and rs[0]["ok"] != rs[0]["n"]:
                    bad.append("%s N=%d: only %s of %s logins accepted" % (
                        NAMES[m], n, rs[0]["ok"], rs[0]["n"]))
            if all(v != v for v in vals):
                continue
            eres[m] = vals
            out.append("  %-26s " % NAMES[m] +
                       " ".join("%10s" % fmt(v) for v in vals) +
                       "   %.2fx" % (vals[-1] / vals[0]))
        for b in bad:
            out.append("  WARNING: " + b)
        for m, what in [("ft", "flowtotp cache, N logins"),
                        ("oath", "pam_oath users file")]:
            rs = pick(rows, "esize", m)
            if rs:
                out.append("  %-26s " % what[:26] + " ".join(
                    "%10s" % size(r["bytes"])
                    for r in sorted(rs, key=lambda r: int(r["run"]))))
        gs = sorted(pick(rows, "gsize", "ft"), key=lambda r: int(r["run"]))
        if gs:
            out.append("  flowtotp cache, 10,000 users: after %s logins %s,"
                       " after %s logins %s" % (
                           gs[0]["logins"], size(gs[0]["bytes"]),
                           gs[-1]["logins"], size(gs[-1]["bytes"])))
            passes = sorted({int(r["run"]) for r in rows
                             if r["measure"] == "g"})
            per = [med([float(r["auth_med_us"]) for r in rows
                        if r["measure"] == "g" and int(r["run"]) == p])
                   for p in passes]
            out.append("  flowtotp auth median per pass of 10,000 logins "
                       "(us, %s processes at once): " % fill_jobs +
                       " ".join(fmt(x) for x in per))
        out.append("")
    frows = [r for r in rows if r["measure"] == "f"]
    if frows:
        out.append("(f) totp-enroll wall time, median of runs (ms)")
        for cmd in sorted({r["module"] for r in frows}):
            rs = sorted([r for r in frows if r["module"] == cmd],
                        key=lambda r: int(r["run"]))
            out.append("  %-26s " % ("totp-enroll " + cmd) + " ".join(
                "%10s" % ("N=%s: %s" % (r["run"], r["ms"])) for r in rs))
        out.append("")
    # targets
    out.append("Targets:")
    for m in [x for x in ["ft", "ftr"] if x in modules]:
        if m in ra:
            out.append("  %s success auth/GA %.3f <= %.2f: %s" % (
                NAMES[m], ra[m], TARGET_SUCCESS,
                "met" if ra[m] <= TARGET_SUCCESS else "MISSED"))
        if m in rb:
            out.append("  %s failure auth/GA %.3f <= %.2f: %s" % (
                NAMES[m], rb[m], TARGET_FAILURE,
                "met" if rb[m] <= TARGET_FAILURE else "MISSED"))
        if m in cres:
            out.append("  %s (c) exactly 1 success every round: %s" % (
                NAMES[m], "met" if all(x == 1 for x in cres[m])
                else "MISSED"))
        if m in dres:
            out.append("  %s (d) %s/%s every round: %s" % (
                NAMES[m], procs, procs,
                "met" if all(x == int(procs) for x in dres[m])
                else "MISSED"))
    if "ft" in eres:
        v = eres["ft"]
        out.append("  pam_flowtotp (e) flat cost (last/first %.2f <= %.1f):"
                   " %s" % (v[-1] / v[0], FLAT_TOLERANCE,
                            "met" if v[-1] / v[0] <= FLAT_TOLERANCE
                            else "MISSED"))
    print("\n".join(out))


if __name__ == "__main__":
    main(sys.argv)
