#!/bin/sh
# The cost of one wrong answer for each kind of user (enrolled, locked,
# unenrolled, unknown), for a TOTP-shaped and a backup-shaped answer: the
# counts of KDF, HMAC and state operations (which tests/pam/test_pam's
# t_equal_work asserts equal) and the median wall time of 5 logins each.
# Run from a configured build directory after `make check` built the test
# module:  sh ../../bench/kinds.sh
#
# Measured (Debian 12, 2 cores shared with other jobs, so the times are
# noisy; default 20000 rounds, 10 codes), medians of 5, three runs:
#   totp   every kind 0.2-0.3 ms (kdf 0, hmac 3, state 1)
#   backup enrolled 99/122/89 ms, locked 183/122/65 ms,
#          unenrolled 109/157/65 ms, unknown 145/83/65 ms (kdf 10, state 1)
# Before the change: backup answers ~90-140 ms enrolled, ~7-23 ms locked or
# unknown (no KDF at all).  The enrolled user's backup answer still also
# locks and reads the secret file, which costs no KDF but is not evened out.
set -eu
test -x tests/pam/test_pam || make tests/pam/test_pam >/dev/null
make pam_module/pam_flowtotp_test.la >/dev/null
FT_PAM_TEST_ONLY=t_equal_work ./tests/pam/test_pam | sed -n 's/^# bench: //p'
