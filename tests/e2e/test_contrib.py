"""The shipped files outside the code: contrib/flowtotp.conf.example matches
the options the module really has (every #key line, uncommented, is accepted
by totp-enroll and by the module in a real PAM login; its keys are the ones
pam_flowtotp(8) documents), the sshd_config.d files pass `sshd -t`, and the
quickstart parses."""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2elib  # noqa: E402
from e2elib import CONTRIB, PROMPT_CODE, TOP_SRCDIR, Env, tap  # noqa: E402

EXAMPLE = os.path.join(CONTRIB, "flowtotp.conf.example")
MAN8 = os.path.join(TOP_SRCDIR, "man", "pam_flowtotp.8")
OPTION_LINE = re.compile(r"^#([a-z_]+) = (.*)$")
# conf= names the file itself, so it cannot be set inside one; split and
# use_stashed give one pam.d line its role, which a file shared by every
# line cannot.
NOT_IN_FILE = {"conf", "split", "use_stashed"}
# The single-prompt stack has two instances around the password module.
FLOWTOTP_LINES = {"sshd-forward-pass": 2}


def example_options():
    with open(EXAMPLE) as f:
        return [m.groups() for m in map(OPTION_LINE.match, f) if m]


def uncommented(path):
    with open(EXAMPLE) as f:
        text = "".join(re.sub(r"^#([a-z_]+ = )", r"\1", ln) for ln in f)
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, 0o644)


def documented_options():
    """Option names of the tagged paragraphs (.TP/.TQ, then the tag line)
    in the OPTIONS and REDIS CACHE sections of the man page."""
    names, section, tag_next = set(), None, False
    with open(MAN8) as f:
        for line in f:
            if line.startswith(".SH"):
                section = line[3:].strip().strip('"')
                tag_next = False
            elif line.startswith((".TP", ".TQ")):
                tag_next = section in ("OPTIONS", "REDIS CACHE")
            elif tag_next:
                tag_next = False
                m = re.match(r"^\.(?:B|BI|BR)\s+([a-z_]+)", line)
                if m:
                    names.add(m.group(1))
    return names


def main():
    e2elib.require_root()       # config files must be root-owned
    e2elib.require_pexpect()
    e2elib.require_files(e2elib.MODULE, e2elib.ENROLL, e2elib.OATHTOOL,
                         "/usr/bin/pamtester")
    with Env("contrib") as env:
        opts = example_options()
        keys = [k for k, _ in opts]
        tap.is_(len(keys), len(set(keys)), "example: no option twice")
        doc = documented_options() - NOT_IN_FILE
        if not tap.is_(sorted(set(keys)), sorted(doc),
                       "example: exactly the options pam_flowtotp(8) "
                       "documents"):
            tap.diag("missing: %s; extra: %s" % (
                sorted(doc - set(keys)), sorted(set(keys) - doc)))

        conf = env.path("example.conf")
        uncommented(conf)
        res = env.totp_enroll("--config", conf,
                              "--option", "secret=%s/%%u" % env.store,
                              "--option", "cache=" + env.cache,
                              "list", "--json", check=False)
        if not tap.is_(res.returncode, 0,
                       "totp-enroll accepts the example with every option "
                       "uncommented"):
            tap.diag(res.stderr)

        # The same file through the module, in a real login.
        user = env.add_user("x")
        env.enroll(user)
        svc = env.name("contrib")
        env.pam_service(svc, "auth required %s conf=%s secret=%s/%%u "
                        "cache=%s\n" % (e2elib.MODULE, conf, env.store,
                                        env.cache))
        import pexpect
        child = pexpect.spawn("/usr/bin/pamtester",
                              [svc, user.name, "authenticate"],
                              encoding="utf-8", timeout=e2elib.PEXPECT_TIMEOUT)
        res = e2elib.drive(child, {PROMPT_CODE: [env.code(user)]},
                           e2elib.LoginResult())
        if not tap.ok("successfully authenticated" in res.output,
                      "the module logs in with the uncommented example as "
                      "conf="):
            tap.diag(repr(res))

        e2elib.Sshd.prepare(env)       # sshd -t wants /run/sshd too
        hostkey = env.hostkey
        for name in sorted(os.listdir(os.path.join(CONTRIB,
                                                   "sshd_config.d"))):
            cfg = env.path("sshd-" + name)
            with open(os.path.join(CONTRIB, "sshd_config.d", name)) as f:
                text = f.read()
            with open(cfg, "w") as f:
                f.write(text + "HostKey %s\n" % hostkey)
            res = e2elib.run(["/usr/sbin/sshd", "-t", "-f", cfg],
                             check=False)
            if not tap.is_(res.returncode, 0, "sshd -t accepts "
                           "contrib/sshd_config.d/" + name):
                tap.diag(res.stderr)

        for name in sorted(os.listdir(os.path.join(CONTRIB, "pam.d"))):
            with open(os.path.join(CONTRIB, "pam.d", name)) as f:
                lines = [ln for ln in f if re.match(
                    r"^\s*auth\s+\S+\s+pam_flowtotp\.so", ln)]
            want = FLOWTOTP_LINES.get(name, 1)
            tap.is_(len(lines), want, "contrib/pam.d/%s: %d pam_flowtotp.so "
                    "auth line(s)" % (name, want))

        res = e2elib.run(["bash", "-n", os.path.join(CONTRIB,
                                                     "quickstart.sh")],
                         check=False)
        tap.is_(res.returncode, 0, "contrib/quickstart.sh parses")
    tap.done_testing()


main()
