"""bench/cg_diff.py BASE.out RUN.out N [TOP] — where the instructions of one request go.

BASE.out and RUN.out are callgrind outputs of two otherwise identical runs of a server, RUN
with N more requests than BASE (see cg_per_request in lib.sh and run.sh --callgrind). For
every function, (its self Ir in RUN - in BASE) / N is what a request costs there, start-up
and idle work cancelling out. Prints the TOP (20) functions as a markdown table.
"""
import re
import subprocess
import sys

LINE = re.compile(r"^\s*([\d,]+)\s+\(\s*[\d.]+%\)\s+(.*?)\s*$")


def self_ir(path):
    out = subprocess.run(["callgrind_annotate", "--threshold=100", "--auto=no", path],
                         check=True, capture_output=True, text=True).stdout
    counts = {}
    for line in out.splitlines():
        m = LINE.match(line)
        if not m or m.group(2) == "PROGRAM TOTALS":
            continue
        name = m.group(2)
        # "file:function [object]" -> "function [object basename]"
        obj = ""
        if name.endswith("]") and " [" in name:
            name, obj = name[:-1].rsplit(" [", 1)
            obj = obj.rsplit("/", 1)[-1]
        func = name.rsplit(":", 1)[-1] if ":" in name else name
        key = "%s (%s)" % (func, obj) if obj else func
        counts[key] = counts.get(key, 0) + int(m.group(1).replace(",", ""))
    return counts


def main():
    base, run, n = self_ir(sys.argv[1]), self_ir(sys.argv[2]), int(sys.argv[3])
    top = int(sys.argv[4]) if len(sys.argv) > 4 else 20
    per = {k: (run.get(k, 0) - base.get(k, 0)) / n for k in set(run) | set(base)}
    total = sum(per.values())
    print("| Ir/request | share | function (object) |")
    print("|---|---|---|")
    for k, v in sorted(per.items(), key=lambda kv: -kv[1])[:top]:
        print("| %s | %.1f %% | `%s` |" % ("{:,.0f}".format(v), 100 * v / total if total else 0, k))
    print("| %s | 100 %% | all functions |" % "{:,.0f}".format(total))


if __name__ == "__main__":
    main()
