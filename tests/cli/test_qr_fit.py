"""A default utf8 enrolment fits an 80 x 24 terminal: the whole QR code and
the confirmation prompt are on screen together, and the screen itself
scans.

The real totp-enroll-test runs in a tmux pane of exactly 80 x 24 under a
host name of 20 characters (a private UTS namespace, so the machine's own
name is untouched); when the prompt shows, the pane is captured, its
half-block characters are rendered to an image and zbarimg must decode the
otpauth URI from it.  The code the decoded secret gives (oathtool) is then
typed at the prompt, which proves the screen held the real secret.  Dark
background: --qr=utf8 (light foreground); light background:
--qr=utf8-inverted read as dark foreground on light.  Root only (the UTS
namespace)."""
import os
import shlex
import shutil
import subprocess
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import clitest  # noqa: E402
from clitest import CLI, T0, tap, totp  # noqa: E402
from test_qr import (grid_utf8, square_ok, write_pgm,  # noqa: E402
                     zbar, UTF8_CELLS)

COLS, ROWS = 80, 24
HOST = "db-backup-07.example"       # 20 characters: the bound
PROMPT = "Enter the 6-digit code from the app to confirm: "
WAIT_S = 30         # generous: only a broken build takes this long
POLL_S = 0.1
TMUX = shutil.which("tmux")
UNSHARE = shutil.which("unshare")


class Pane:
    """A detached tmux session on a private server socket."""

    def __init__(self, sock, command):
        self.base = [TMUX, "-u", "-S", sock]
        subprocess.run(self.base + ["-f", "/dev/null", "new-session", "-d",
                                    "-x", str(COLS), "-y", str(ROWS),
                                    "-s", "fit", command], check=True,
                       timeout=WAIT_S)
        # Keep the pane after the program exits, to read its last words.
        subprocess.run(self.base + ["set-option", "-g", "remain-on-exit",
                                    "on"], check=True, timeout=WAIT_S)

    def size(self):
        r = subprocess.run(self.base + ["display-message", "-p", "-t", "fit",
                                        "#{pane_width}x#{pane_height}"],
                           capture_output=True, text=True, timeout=WAIT_S)
        return r.stdout.strip()

    def lines(self):
        # -N keeps trailing spaces: the inverted quiet zone is blank cells.
        r = subprocess.run(self.base + ["capture-pane", "-p", "-N", "-t",
                                        "fit"], capture_output=True,
                           timeout=WAIT_S)
        return r.stdout.decode("utf-8", "replace").split("\n")[:ROWS]

    def wait_for(self, text):
        deadline = time.monotonic() + WAIT_S
        while time.monotonic() < deadline:
            lines = self.lines()
            if any(text in line for line in lines):
                return lines
            time.sleep(POLL_S)
        return None

    def type(self, text):
        subprocess.run(self.base + ["send-keys", "-t", "fit", text, "Enter"],
                       check=True, timeout=WAIT_S)

    def kill(self):
        subprocess.run(self.base + ["kill-server"], capture_output=True,
                       timeout=WAIT_S)


def command(env, mode):
    e = " ".join(shlex.quote(a) for a in (
        "LC_ALL=C.UTF-8", "TERM=xterm", "FLOWTOTP_TEST_NOW=%d" % T0,
        "FT_TEST_SYSLOG=" + env.syslog))
    cli = " ".join(shlex.quote(a) for a in
                   [CLI] + env.opts + ["--force", "--qr=" + mode])
    inner = "hostname %s && env %s %s" % (shlex.quote(HOST), e, cli)
    return "%s -u sh -c %s" % (UNSHARE, shlex.quote(inner))


def screen_qr(lines):
    """The QR lines on the screen: the run of drawing lines right above
    the prompt line, and whether the prompt is the last line shown."""
    text = [ln.rstrip(" ") for ln in lines]
    last = max(i for i, ln in enumerate(text) if ln != "" or
               lines[i].strip(" ") != "")
    prompt_at = next((i for i, ln in enumerate(lines)
                      if ln.startswith(PROMPT)), None)
    if prompt_at is None:
        return None, False
    start = prompt_at
    while start > 0 and lines[start - 1] != "" and all(
            ch in UTF8_CELLS for ch in lines[start - 1]):
        start -= 1
    return lines[start:prompt_at], last == prompt_at


def case(env, sock, desc, mode, inverted):
    pane = Pane(sock, command(env, mode))
    try:
        tap.is_(pane.size(), "%dx%d" % (COLS, ROWS),
                "%s: the pane is %d x %d" % (desc, COLS, ROWS))
        lines = pane.wait_for(PROMPT)
        if not tap.ok(lines is not None, "%s: the confirmation prompt is "
                      "on screen" % desc):
            tap.diag("\n".join(pane.lines()))
            return
        block, prompt_last = screen_qr(lines)
        tap.ok(prompt_last, "%s: the prompt is the last line" % desc)
        width = max((len(ln) for ln in block), default=0)
        tap.ok(block and width <= COLS and
               all(len(ln) == width for ln in block),
               "%s: %d QR lines of %d columns, none wrapped"
               % (desc, len(block), width))
        grid = grid_utf8(block, inverted=inverted)
        # The whole symbol, its top and bottom quiet zones included: a
        # screen that cut the top off would leave a non-square grid.
        tap.ok(square_ok(grid), "%s: the whole symbol and its quiet zone "
               "are on screen" % desc)
        img = os.path.join(env.dir, "fit-%s.pgm" % mode)
        write_pgm(grid, img)
        rc, uri = zbar(img)
        tap.is_(rc, 0, "%s: zbarimg decodes the captured screen" % desc)
        u = urllib.parse.urlparse(uri)
        q = urllib.parse.parse_qs(u.query)
        tap.ok(u.scheme == "otpauth" and u.path == "/%s:root" % HOST and
               q.get("issuer") == [HOST] and "secret" in q and
               not ({"algorithm", "digits", "period"} & set(q)),
               "%s: the URI has secret and issuer, not the default "
               "parameters (%s)" % (desc, uri))
        secret = q.get("secret", [""])[0]
        pane.type(totp(secret, T0) if secret else "000000")
        done = pane.wait_for("Enrolled root.")
        tap.ok(done is not None, "%s: the code from the decoded secret "
               "confirms the enrolment" % desc)
    finally:
        pane.kill()


def main():
    clitest.need_components(zbar=True)
    if not clitest.is_root():
        tap.skip_all("needs root (a UTS namespace for the host name)")
    if not TMUX or not UNSHARE:
        tap.skip_all("needs tmux and unshare")
    env = clitest.Env("qrfit")
    # A tmux server of its own for each case: the last one may still be
    # shutting down (slowly, under the sanitizers) when the next starts.
    try:
        case(env, os.path.join(env.dir, "tmux-dark.sock"),
             "dark background, --qr=utf8", "utf8", False)
        case(env, os.path.join(env.dir, "tmux-light.sock"),
             "light background, --qr=utf8-inverted", "utf8-inverted", True)
    finally:
        env.cleanup()
    tap.done_testing()


if __name__ == "__main__":
    main()
