"""bench/table.py RESULTS.tsv — the combined table of bench/all.sh.

Each line of RESULTS.tsv (written by lib.sh's bench_result) is
    case, peer, req/s, p50 ms, p99 ms, CPU us/req, Ir/req, RSS MB, note
with "-" where a figure does not apply. Rows keep their order; cases keep the order of their
first row. Every figure is followed by its ratio to the case's reference row: the first
row whose peer starts with "nginx", or else, in the cases that compare ours with ours
(FIRST_ROW_IS_REF: 1 route, --workers 1), the case's first row; other cases show no ratios.
"""
import sys

FIRST_ROW_IS_REF = ("config scale: routes", "worker scaling:")
COLUMNS = ["req/s", "p50 ms", "p99 ms", "CPU us/req", "Ir/req", "RSS MB"]


def number(text):
    try:
        return float(text)
    except ValueError:
        return None


def cell(value, ref, is_ref, digits):
    v = number(value)
    if v is None:
        return "-"
    shown = "{:,.{}f}".format(v, digits)
    if is_ref:
        return shown
    r = number(ref) if ref is not None else None
    if r is None or r == 0:
        return shown
    return "%s (%.2fx)" % (shown, v / r)


def main(path):
    cases, rows = [], {}
    with open(path) as f:
        for line in f:
            fields = line.rstrip("\n").split("\t")
            if len(fields) < 9:
                fields += ["-"] * (9 - len(fields))
            case = fields[0]
            if case not in rows:
                cases.append(case)
                rows[case] = []
            rows[case].append(fields[1:])
    if not cases:
        print("(no results)")
        return 1
    digits = [0, 3, 3, 2, 0, 1]
    print("| case | peer | " + " | ".join(COLUMNS) + " | note |")
    print("|---|---|" + "---|" * len(COLUMNS) + "---|")
    for case in cases:
        group = rows[case]
        ref = next((r for r in group if r[0].startswith("nginx")), None)
        if ref is None and case.startswith(FIRST_ROW_IS_REF):
            ref = group[0]
        for r in group:
            cells = [cell(r[1 + i], ref[1 + i] if ref else None, r is ref, digits[i])
                     for i in range(len(COLUMNS))]
            peer = r[0] + (" (ref)" if r is ref and len(group) > 1 else "")
            print("| %s | %s | %s | %s |" % (case, peer, " | ".join(cells), r[7]))
    print()
    print("Ratios (in brackets) are to the case's (ref) row; cases without one show none. req/s, p50, p99, CPU us/req: wrk "
          "medians (wall clock, disturbed by other load on a shared machine); Ir/req: callgrind "
          "instructions per request (deterministic); RSS: VmRSS, or as the case says.")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
