"""The terminal QR code must scan: render the printed characters to an
image and zbarimg must decode exactly the printed otpauth URI.

utf8 mode: one character holds two module rows (foreground = light module,
space = dark).  ansi mode: two spaces with a white (47) or black (40)
background are one module.  No root needed."""
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import clitest  # noqa: E402
from clitest import tap  # noqa: E402

SCALE = 4   # pixels per module
LIGHT, DARK = 255, 0
UTF8_CELLS = {"\u2588": (LIGHT, LIGHT), "\u2580": (LIGHT, DARK),
              "\u2584": (DARK, LIGHT), " ": (DARK, DARK)}
ANSI_TOKEN = re.compile(r"\x1b\[(\d+)m|(  )")


ANSI_NOTE = re.compile(r"This QR code needs (\d+) columns; if it wraps, "
                       r"use a UTF-8 locale or --qr=utf8")


def is_qr_line(line):
    return line != "" and (line.startswith("\x1b[") or
                           all(ch in UTF8_CELLS for ch in line))


def qr_block(out):
    """The lines of the QR code in the enrol output: right under the
    "Scan this" line (and the ansi width note), up to the first line that
    is not drawing."""
    lines = out.split("\n")
    try:
        start = lines.index("Scan this QR code with your authenticator "
                            "app:") + 1
    except ValueError:
        return None
    if start < len(lines) and ANSI_NOTE.match(lines[start]):
        start += 1
    end = start
    while end < len(lines) and is_qr_line(lines[end]):
        end += 1
    return lines[start:end]


def grid_utf8(lines, inverted=False):
    """The modules of utf8 lines; inverted: the foreground is dark (what a
    light-background terminal shows of --qr=utf8-inverted)."""
    grid = []
    for line in lines:
        top, bottom = [], []
        for ch in line:
            if ch not in UTF8_CELLS:
                raise ValueError("unexpected character %r" % ch)
            t, b = UTF8_CELLS[ch]
            if inverted:
                t, b = LIGHT + DARK - t, LIGHT + DARK - b
            top.append(t)
            bottom.append(b)
        grid += [top, bottom]
    # An odd number of rows leaves a padding half row, drawn light.
    if grid and len(grid) == len(grid[0]) + 1:
        if any(v != LIGHT for v in grid[-1]):
            raise ValueError("padding row is not light")
        grid.pop()
    return grid


def grid_ansi(lines):
    grid = []
    for line in lines:
        row, bg, pos = [], None, 0
        for m in ANSI_TOKEN.finditer(line):
            if m.start() != pos:
                raise ValueError("stray text in %r" % line[pos:m.start()])
            pos = m.end()
            if m.group(1) is not None:
                bg = {"47": LIGHT, "40": DARK, "0": None}[m.group(1)]
            else:
                if bg is None:
                    raise ValueError("module without a colour")
                row.append(bg)
        if pos != len(line):
            raise ValueError("stray text at the end of %r" % line)
        grid.append(row)
    return grid


def write_pgm(grid, path):
    h, w = len(grid), len(grid[0])
    with open(path, "wb") as f:
        f.write(b"P5\n%d %d\n255\n" % (w * SCALE, h * SCALE))
        for row in grid:
            line = bytes(v for v in row for _ in range(SCALE))
            for _ in range(SCALE):
                f.write(line)


def zbar(path):
    r = subprocess.run([clitest.ZBARIMG, "--raw", "-q", path],
                       capture_output=True)
    return r.returncode, r.stdout.decode("utf-8", "replace").rstrip("\n")


QUIET = 2   # modules of light margin, totp-enroll(1)


def grid_utf8_inverted(lines):
    return grid_utf8(lines, inverted=True)


def square_ok(grid):
    """Square, quiet zone of QUIET light modules, a valid QR size."""
    n = len(grid)
    if any(len(r) != n for r in grid):
        return False
    if (n - 2 * QUIET - 21) % 4 != 0:
        return False
    for i in range(QUIET):
        for row in (grid[i], grid[n - 1 - i]):
            if any(v != LIGHT for v in row):
                return False
        if any(grid[y][i] != LIGHT or grid[y][n - 1 - i] != LIGHT
               for y in range(n)):
            return False
    return True


def case(env, desc, mode_args, parse, extra=(), lang="C"):
    r = env.run(["--no-confirm", "--force"] + mode_args + list(extra),
                env=env.env(LC_ALL=lang))
    if not tap.ok(r.returncode == 0, "%s: enrolled" % desc):
        tap.diag(r.stderr)
        return
    _, uri, _ = clitest.parse_enrol(r.stdout)
    block = qr_block(r.stdout)
    if not tap.ok(block is not None and uri is not None,
                  "%s: QR and URI printed" % desc):
        return
    try:
        grid = parse(block)
    except ValueError as e:
        tap.ok(False, "%s: QR characters parse (%s)" % (desc, e))
        return
    tap.ok(square_ok(grid), "%s: square symbol with a %d-module quiet zone"
           % (desc, QUIET))
    note = ANSI_NOTE.search(r.stdout)
    if parse is grid_ansi:
        tap.ok(note is not None and int(note.group(1)) == 2 * len(grid),
               "%s: says it needs %d columns" % (desc, 2 * len(grid)))
    else:
        tap.ok(note is None, "%s: no width note" % desc)
    tap.ok("--qr=utf8-inverted" in r.stdout,
           "%s: the light-background hint is printed" % desc)
    img = os.path.join(env.dir, "qr.pgm")
    write_pgm(grid, img)
    rc, got = zbar(img)
    tap.is_(rc, 0, "%s: zbarimg finds a code" % desc)
    tap.is_(got, uri, "%s: zbarimg decodes exactly the printed URI" % desc)


def main():
    clitest.need_components(zbar=True)
    env = clitest.Env("qr")
    try:
        case(env, "utf8", ["--qr=utf8"], grid_utf8)
        case(env, "ansi", ["--qr=ansi"], grid_ansi)
        case(env, "auto in a UTF-8 locale", [], grid_utf8, lang="C.UTF-8")
        case(env, "auto in the C locale", [], grid_ansi, lang="C")
        label = ("J\u00f6rg M\u00fcller-L\u00fcdenscheidt & Co / "
                 "long account name " * 6)[:200]
        issuer = "Very Long Issuer Name With Spaces %% and = signs"
        for mode, parse in (("utf8", grid_utf8), ("ansi", grid_ansi)):
            case(env, "%s, long label" % mode, ["--qr=" + mode], parse,
                 ["--label", label, "--issuer", issuer])
        case(env, "utf8-inverted (dark on light)", ["--qr=utf8-inverted"],
             grid_utf8_inverted)
        r = env.run(["--no-confirm", "--force", "--qr=utf8-inverted"])
        block = qr_block(r.stdout)
        tap.ok(block is not None and bool(block) and
               (set(block[0]) | set(block[-1])) <= {" "},
               "utf8-inverted: the quiet zone is drawn as blank cells")
        case(env, "utf8, SHA512/8/60", ["--qr=utf8"], grid_utf8,
             ["--algorithm", "sha512", "--digits", "8", "--period", "60"])
        r = env.run(["--no-confirm", "--force", "--qr=none"])
        tap.ok(r.returncode == 0 and qr_block(r.stdout) is None and
               "\u2588" not in r.stdout and "\x1b[" not in r.stdout,
               "--qr=none prints no QR code")
        tap.ok(clitest.parse_enrol(r.stdout)[1] is not None,
               "--qr=none still prints the URI")
        r = env.run(["--no-confirm", "--force", "--qr=utf8", "--label",
                     "x" * 300])
        tap.is_(r.returncode, clitest.EX_USAGE, "an over-long label is a "
                "usage error")
    finally:
        env.cleanup()
    tap.done_testing()


if __name__ == "__main__":
    main()
