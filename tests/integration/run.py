#!/usr/bin/python3
"""Integration test runner (standard library only).

    /usr/bin/python3 tests/integration/run.py [SUBSTRING ...]

Discovers tests/integration/test_*.py, runs every module-level function named
test_* in file order (only those whose 'module.function' name contains one of
the SUBSTRINGs, when given), prints `PASS name` or `FAIL name: reason` with the
traceback and the tails of the logs of the processes the test started, and
ends with one line `integration: N passed, N failed`. Exit code 1 if any test
failed.

A test may set `fn.timeout = seconds` (default 120); a test running longer is
interrupted and fails. Everything a test started through the harness is
cleaned up after it, pass or fail.
"""

import importlib.util
import os
import signal
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import harness  # noqa: E402

DEFAULT_TIMEOUT = 120


class TestTimeout(Exception):
    pass


def discover():
    """[(qualified name, function)] in file order, then definition order."""
    tests = []
    for fname in sorted(os.listdir(HERE)):
        if not (fname.startswith("test_") and fname.endswith(".py")):
            continue
        modname = fname[:-3]
        spec = importlib.util.spec_from_file_location(modname, os.path.join(HERE, fname))
        module = importlib.util.module_from_spec(spec)
        sys.modules[modname] = module
        spec.loader.exec_module(module)
        for name, obj in vars(module).items():
            if name.startswith("test_") and callable(obj) \
                    and getattr(obj, "__module__", None) == modname:
                tests.append(("%s.%s" % (modname, name), obj))
    return tests


def selected(tests, filters):
    if not filters:
        return tests
    return [(n, f) for n, f in tests if any(s in n for s in filters)]


def _on_alarm(signum, frame):
    raise TestTimeout("test exceeded its time limit")


def run_one(name, fn):
    """Run one test; returns None on success or the failure text. A sanitizer report in
    the log of a gateway the test started fails the test too."""
    result = _run_one(name, fn)
    reports = harness.take_sanitizer_reports()
    if not reports:
        return result
    if result is None:
        return reports[0].splitlines()[0], "\n\n".join(reports)
    return result[0], result[1] + "\n\n" + "\n\n".join(reports)


def _run_one(name, fn):
    limit = getattr(fn, "timeout", DEFAULT_TIMEOUT)
    signal.signal(signal.SIGALRM, _on_alarm)
    signal.alarm(int(limit))
    try:
        fn()
        return None
    except BaseException as err:  # every failure is reported, Ctrl-C included
        if isinstance(err, KeyboardInterrupt):
            raise
        reason = "%s: %s" % (type(err).__name__, err) if str(err) else type(err).__name__
        if isinstance(err, TestTimeout):
            reason = "timed out after %ds" % limit
        first_line = reason.strip().splitlines()[0] if reason.strip() else reason
        details = traceback.format_exc()
        logs = harness.failure_logs()
        return first_line, details + (("\n" + logs) if logs else "")
    finally:
        signal.alarm(0)
        harness.cleanup_all()


def main(argv):
    try:
        tests = selected(discover(), argv)
    except Exception:
        traceback.print_exc()
        print("integration: 0 passed, 1 failed")
        return 1
    passed = failed = 0
    try:
        for name, fn in tests:
            started = time.monotonic()
            result = run_one(name, fn)
            took = time.monotonic() - started
            if result is None:
                passed += 1
                print("PASS %s" % name, flush=True)
            else:
                failed += 1
                reason, details = result
                print("FAIL %s: %s" % (name, reason), flush=True)
                print("    (after %.1fs)\n    " % took
                      + details.rstrip().replace("\n", "\n    "), flush=True)
    except KeyboardInterrupt:
        harness.cleanup_all()
        print("interrupted", flush=True)
        failed += 1
    print("integration: %d passed, %d failed" % (passed, failed), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
