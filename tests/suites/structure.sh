#!/bin/bash
# The shape of the product code (tests/lib/structure.py): within each layer
# the object files call one another one way only, common/ never calls a
# face, and no function is longer than 60 lines or takes more than 6
# parameters.  Read from the objects the full build just made.
set -u
. "$top_srcdir/tests/hardening/suite-lib.sh"
suite_begin structure
log="$SUITE_DIR/structure.out"
python3 "$top_srcdir/tests/lib/structure.py" >"$log" 2>&1
suite_tap "$log" $?
suite_end
