"""harness.py -- the check counter of the Python tests (test_numpy.py, test_torch.py): check()
counts and prints a FAIL line per failed check, count() is how many ran, finish() prints the
totals and exits 1 on any failure. Needs nothing but the standard library (test_numpy runs with
torch made unimportable)."""
import sys

_checks = 0
_failed = 0


def check(ok, what):
    global _checks, _failed
    _checks += 1
    if not ok:
        _failed += 1
        print("FAIL", what)


def count():
    return _checks


def finish():
    print("%d checks, %d failed" % (_checks, _failed))
    sys.exit(1 if _failed else 0)
