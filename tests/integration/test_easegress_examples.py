"""Easegress's own example objects and filter specs get Easegress's verdict here (issue 5, 8).

../shared/reference/easegress-examples/ (read at test time, never committed) holds files from
Easegress's repository and docs; its INDEX.md records, per file, whether Easegress accepts or
rejects it. This test walks INDEX.md and, for every file whose kinds this gateway implements
(object kinds from GET /apis/v2/object-kinds, filter kinds from
/apis/v2/metadata/objects/pipeline/filters), submits it the way the verdict was obtained and
compares:

- a file is split into documents as egctl splits it (lines that are exactly `---`), and each
  document goes through `egctl create -f -` on its own, so a rejected document does not hide
  the verdicts of the ones after it;
- a bare filter spec (verdict `FILTER (...)`) is submitted as the only item of a Pipeline's
  `filters`, which is how INDEX.md says to test it;
- an HTTPServer's `port` is replaced by a free port, so the verdict does not depend on what
  else listens on this machine (ports are not what the verdicts are about);
- objects are deleted after each file, since the files reuse names.

Files with a kind this project does not implement (object kinds, filter kinds, resilience
policy kinds) are counted and listed as "kind not implemented", not checked. Verdicts we
deliberately do not reproduce are in EXPECTED_DEVIATIONS with the reason (also in
docs/architecture.md). Without ../shared the test prints a SKIPPED notice and passes."""

import json
import os
import re

from harness import Gateway, free_port, request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXAMPLES = os.path.join(ROOT, "..", "shared", "reference", "easegress-examples")
INDEX = os.path.join(EXAMPLES, "INDEX.md")
COMPATIBILITY_DOC = os.path.join(ROOT, "docs", "compatibility.md")

# Resilience policy kinds (Pipeline `resilience`): none is implemented yet; the server has no
# endpoint listing them, so the list of the kinds we know of is here.
RESILIENCE_KINDS = ("CircuitBreaker", "Retry", "RateLimiter", "TimeLimiter")

# (file, document number or None for all) -> why our verdict differs from Easegress's on
# purpose. Keep in step with docs/architecture.md ("Where we differ from Easegress on purpose").
EXPECTED_DEVIATIONS = {
}

# Rejections whose reason we check too (a verdict reached for another reason is a mismatch):
# file -> regular expression the error must contain.
REJECT_REASONS = {
    "docs_07.Reference_7.06.Routers.md__b00.yaml": r"cannot start any token",
    # Easegress names proxy2 (it walks the flow backwards); we name the first one, proxy1.
    "docs_07.Reference_7.02.Filters.md__b38.yaml": r'filter "proxy[12]" is not defined',
    "example_config_websocket-server-example.yaml": r"kind WebSocketServer not found",
    # `flow: - proxy`: a flow item must be a mapping ({filter: proxy}).
    "docs_02.Tutorials_2.7.gRPC.md__b00.yaml": r"flow\[0\]: must be an object",
    # `------` is no document separator: one document that is not valid YAML.
    "docs_03.Advanced-Cookbook_3.14.WAF.md__b00.yaml": r"could not find expected ':'",
}


# Fields INDEX.md says Easegress ignores (typos, fields that do not exist) that we do not warn
# about yet: file -> why. Keep in step with docs/compatibility.md.
KNOWN_MISSING_WARNINGS = {
    "docs_07.Reference_7.02.Filters.md__b18.yaml":
        "the filters written in Lua (RequestAdaptor, ...) report unknown top-level fields "
        "only; unknown fields nested inside known ones (path.signer) are not reported yet",
}


# ---------------------------------------------------------------------------
# INDEX.md


def split_row(line):
    """A markdown table row -> its cells; a `|` inside backticks is text (`random|exponential`)."""
    cells, cell, in_code = [], "", False
    for ch in line[1:]:
        if ch == "`":
            in_code = not in_code
        if ch == "|" and not in_code:
            cells.append(cell.strip())
            cell = ""
        else:
            cell += ch
    return cells


def parse_index(text):
    """The table rows of INDEX.md -> [{file, kinds, covers, verdict, notes}]."""
    rows = []
    for line in text.splitlines():
        if not line.startswith("| ") or line.startswith("| File ") or line.startswith("|---"):
            continue
        cells = split_row(line.strip())
        assert len(cells) == 5, "INDEX.md row with %d cells: %r" % (len(cells), line)
        rows.append(dict(zip(("file", "kinds", "covers", "verdict", "notes"), cells)))
    return rows


def ignored_fields(row):
    """Fields INDEX.md says Easegress ignores in a file (`maxConnection` typo (ignored), `pass:`
    is ignored, `path.signer.for` is not a field, ...): the first quoted name of each remark."""
    names = []
    text = "%s, %s, %s" % (row["covers"], row["verdict"], row["notes"])
    for remark in re.split(r"[;,] ", text):
        if re.search(r"typo|ignored|unknown field|is not a field", remark):
            quoted = re.findall(r"`([^`]+)`", remark)
            if quoted:
                names.append(quoted[0].split(":")[0].strip())
    return names


def warned(name, warnings):
    """Whether one of our `unknown field <path>` warnings names the field: a dotted name
    (path.signer.for) matches on its first two parts, the part that is unknown."""
    parts = name.split(".")
    want = ".".join(parts[:2])
    pattern = re.compile(r"unknown field (\S*[.\]])?%s(\b|$)" % re.escape(want))
    return any(pattern.search(w) for w in warnings)


def parse_doc_numbers(spec):
    """'1,3-7' -> {1, 3, 4, 5, 6, 7} (1-based document numbers as INDEX.md writes them)."""
    out = set()
    for part in spec.split(","):
        low, _, high = part.strip().partition("-")
        out.update(range(int(low), int(high or low) + 1))
    return out


def expected_verdicts(verdict, docs):
    """INDEX.md's verdict text -> (bare_filter, [expected per document]).

    An expectation is 'accept', 'reject', 'some-reject' (the file as a whole is rejected: at
    least one of its documents must be) or None (INDEX.md records no verdict for it). A text
    this does not understand fails the test, so a changed INDEX.md cannot pass unnoticed."""
    n = len(docs)
    head = verdict.split("(")[0].strip()
    if verdict.startswith("FILTER ("):
        inner = re.split(r"[;, )]", verdict[len("FILTER ("):])[0].lower()
        assert inner in ("accept", "reject"), "INDEX.md verdict not understood: %r" % verdict
        return True, [inner] * n
    if head == "ACCEPT" or verdict.startswith("ACCEPT "):
        return False, ["accept"] * n
    if head == "REJECT" or verdict.startswith("REJECT "):
        return False, ["reject"] * n if n == 1 else ["some-reject"] * n
    # Per-document verdicts: "docs 1,3-7 ACCEPT; doc 2 (...) REJECT", "Pipelines ACCEPT; ...".
    expected = [None] * n
    understood = False
    for part in verdict.split(";"):
        part = " ".join(re.sub(r"\([^)]*\)", "", part).split())
        m = re.match(r"docs? ([\d,\-]+) (ACCEPT|REJECT)$", part)
        if m:
            for number in parse_doc_numbers(m.group(1)):
                assert 1 <= number <= n, "INDEX.md names document %d of %d" % (number, n)
                expected[number - 1] = m.group(2).lower()
            understood = True
            continue
        m = re.match(r"(\w+)s (ACCEPT|REJECT)$", part)
        if m:
            for i, doc in enumerate(docs):
                if doc["kinds"] == [m.group(1)]:
                    expected[i] = m.group(2).lower()
            understood = True
    assert understood, "INDEX.md verdict not understood: %r" % verdict
    return False, expected


# ---------------------------------------------------------------------------
# documents


def split_documents(text):
    """Documents as egctl splits a file: on lines that are exactly `---` (trailing blanks
    allowed). Empty documents (only blanks and comments) are dropped."""
    docs, current = [], []
    for line in text.splitlines(keepends=True):
        if line.rstrip() == "---":
            docs.append("".join(current))
            current = []
        else:
            current.append(line)
    docs.append("".join(current))
    return [d for d in docs
            if any(ln.strip() and not ln.lstrip().startswith("#") for ln in d.splitlines())]


def scan_kinds(doc):
    """The kinds a document uses, by its layout (objects' top-level keys start in column 0):
    {'kinds': top-level kind(s), 'filters': kinds under `filters:`, 'policies': kinds under
    `resilience:`}. Inline flow mappings ({kind: X}) are not used by any example."""
    kinds, filters, policies = [], [], []
    section = None
    for line in doc.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if not line[0].isspace() and not line.startswith("-"):
            key = line.split(":", 1)[0].strip()
            section = key
            m = re.match(r"kind:\s*(\S+)", line)
            if m:
                kinds.append(m.group(1).strip("'\""))
            continue
        m = re.match(r"[\s-]*kind:\s*(\S+)", line)
        if not m:
            continue
        kind = m.group(1).strip("'\"")
        if section == "filters" or (section is None and line.startswith("-")):
            filters.append(kind)
        elif section == "resilience":
            policies.append(kind)
        else:
            filters.append(kind)  # e.g. GlobalFilter pipelines nest their filters deeper
    return {"kinds": kinds, "filters": filters, "policies": policies}


def wrap_filter(doc, name):
    """A bare filter spec as the only filter of a Pipeline (definition-order flow)."""
    lines = doc.splitlines()
    body = []
    first = True
    for line in lines:
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        body.append(("- " if first else "  ") + line)
        first = False
    return "name: %s\nkind: Pipeline\nfilters:\n%s\n" % (name, "\n".join(body))


def with_free_ports(doc):
    return re.sub(r"(?m)^port:\s*\d+\s*$", lambda _: "port: %d" % free_port(), doc)


# ---------------------------------------------------------------------------
# the check


def implemented(gw):
    status, _, text = gw.api("GET", "/apis/v2/object-kinds")
    assert status == 200, text
    objects = set(json.loads(text))
    status, _, text = gw.api("GET", "/apis/v2/metadata/objects/pipeline/filters")
    assert status == 200, text
    return objects, set(json.loads(text))


def missing_kinds(doc_kinds, object_kinds, filter_kinds, bare_filter):
    missing = []
    for kind in doc_kinds["kinds"]:
        known = kind in filter_kinds if bare_filter else kind in object_kinds
        if not known:
            missing.append(kind)
    missing += [k for k in doc_kinds["filters"] if k not in filter_kinds]
    missing += ["%s (resilience)" % k for k in doc_kinds["policies"]]
    return missing


def submit(gw, doc):
    """The document through `egctl create -f -` and through POST /apis/v2/objects (the YAML
    as the body), each on an empty gateway and with ports of its own (a deleted HTTPServer's
    port is released by the workers a little later) -> (egctl accepted, egctl message, API
    accepted, API message)."""
    rc, out, err = gw.egctl("create", "-f", "-", stdin=with_free_ports(doc))
    clear(gw)
    status, _, text = gw.api("POST", "/apis/v2/objects", body=with_free_ports(doc),
                             headers={"Content-Type": "application/yaml"})
    clear(gw)
    api_message = text
    try:
        api_message = json.loads(text).get("message", text)
    except ValueError:
        pass
    return rc == 0, (out + err).strip(), status in (200, 201), "%d %s" % (status, api_message)


def clear(gw):
    status, _, text = gw.api("DELETE", "/apis/v2/objects?all=true")
    assert status == 200, "DELETE /apis/v2/objects -> %d %s" % (status, text)


NOT_IMPLEMENTED = re.compile(r"not (implemented|supported) yet")


def pipeline_filters(doc):
    """The items of a Pipeline document's top-level `filters:` list, each as bare filter text
    (the item dedented, its `- ` removed)."""
    lines = doc.splitlines()
    items, current, indent, inside = [], None, None, False
    for line in lines:
        if line and not line[0].isspace() and not line.startswith("-"):
            inside = line.startswith("filters:")
            if current:
                items.append(current)
                current = None
            continue
        if not inside or not line.strip() or line.lstrip().startswith("#"):
            continue
        stripped = line.lstrip(" ")
        here = len(line) - len(stripped)
        if stripped.startswith("- ") and (indent is None or here == indent):
            indent = here
            if current:
                items.append(current)
            current = [" " * (here + 2) + stripped[2:]]
        elif current is not None:
            current.append(line)
    if current:
        items.append(current)
    return ["\n".join(ln[indent + 2:] for ln in item) + "\n" for item in items]


class Tally:
    """What the walk found: verdicts compared, documents not checked and why, mismatches."""

    def __init__(self):
        self.checked = []            # (file, doc number)
        self.filters_alone = []      # (file, doc number, filter kind)
        self.kind_missing = []       # (file, doc number, [kinds])
        self.feature_missing = []    # (file, doc number, our message)
        self.unrecorded = []         # (file, doc number): INDEX.md gives no verdict
        self.warning_gaps = []       # (file, fields, why): ignored fields we do not warn about
        self.mismatches = []


def deviation_for(name, number):
    return EXPECTED_DEVIATIONS.get((name, number)) or EXPECTED_DEVIATIONS.get((name, None))


def compare(tally, name, number, want, got, what=""):
    """One document's verdicts (got: from submit) against Easegress's; records a mismatch, or a
    feature not implemented when we refuse it for that."""
    accepted, message, api_accepted, api_message = got
    if accepted != api_accepted:
        tally.mismatches.append("%s doc %d%s: egctl and the admin API disagree: egctl %s (%s), "
                                "the API %s (%s)" % (name, number, what,
                                                     "accepts" if accepted else "rejects", message,
                                                     "accepts" if api_accepted else "rejects",
                                                     api_message))
        return
    if not accepted and NOT_IMPLEMENTED.search(message):
        tally.feature_missing.append((name, number, message.splitlines()[-1]))
        return
    ok = accepted == (want == "accept")
    reason = REJECT_REASONS.get(name)
    if ok and not accepted and reason and not (re.search(reason, message)
                                               and re.search(reason, api_message)):
        ok = False
        message = "rejected for another reason than /%s/: %s; API: %s" % (reason, message,
                                                                          api_message)
    deviation = deviation_for(name, number)
    if deviation:
        if ok:
            tally.mismatches.append("%s doc %d: listed as a deviation (%s) but now matches "
                                    "Easegress; remove it from EXPECTED_DEVIATIONS"
                                    % (name, number, deviation))
        return
    if not ok:
        tally.mismatches.append("%s doc %d%s: Easegress %ss it, we %s it: %s"
                                % (name, number, what, want,
                                   "accept" if accepted else "reject", message))


def verdict_line(got):
    accepted, message = got[0], got[1]
    if not accepted:
        return "rejected: " + message.splitlines()[-1]
    warnings = [ln for ln in message.splitlines() if ln.startswith("Warning")]
    return "accepted" + "".join("\n      " + w for w in warnings)


def check_file(gw, row, object_kinds, filter_kinds, tally, ignored_anywhere):
    """Submits the file's documents and records what was found in tally; -> report lines."""
    name = row["file"]
    with open(os.path.join(EXAMPLES, name), encoding="utf-8") as f:
        text = f.read()
    docs = [dict(scan_kinds(d), text=d) for d in split_documents(text)]
    bare_filter, expected = expected_verdicts(row["verdict"], docs)
    lines = []
    warnings = []   # our warnings for the documents (and lone filters) accepted
    file_rejected = False
    all_checked = True
    for i, doc in enumerate(docs):
        number, want = i + 1, expected[i]
        body = wrap_filter(doc["text"], "example-filter-%d" % i) if bare_filter else doc["text"]
        missing = missing_kinds(doc, object_kinds, filter_kinds, bare_filter)
        if missing:
            got = None
            if want in ("reject", "some-reject"):
                # Refused by Easegress: if we refuse it too, and not for lack of a kind, the
                # reason lies elsewhere (YAML, flow) and the verdict can be compared.
                got = submit(gw, body)
                reason = REJECT_REASONS.get(name)
                if got[0] or (not (reason and re.search(reason, got[1]))
                              and any(k.split()[0] in got[1] for k in missing)):
                    got = None
            if got is None:
                all_checked = False
                tally.kind_missing.append((name, number, missing))
                lines.append("    doc %d: kind not implemented: %s" % (number, ", ".join(missing)))
                if want == "accept" and doc["kinds"] == ["Pipeline"] and not doc["policies"]:
                    warnings += check_filters_alone(gw, name, number, doc, filter_kinds, tally, lines)
                continue
        else:
            got = submit(gw, body)
        file_rejected = file_rejected or not got[0]
        warnings += warnings_of(got)
        lines.append("    doc %d: %s" % (number, verdict_line(got)))
        if want is None:
            tally.unrecorded.append((name, number))
        elif want == "some-reject":
            compare(tally, name, number, "reject", got) if not got[0] else None
        else:
            tally.checked.append((name, number))
            compare(tally, name, number, want, got)
            if (not got[0] and want == "accept" and doc["kinds"] == ["Pipeline"]
                    and NOT_IMPLEMENTED.search(got[1])):
                warnings += check_filters_alone(gw, name, number, doc, filter_kinds, tally, lines)
    if "some-reject" in expected and all_checked:
        tally.checked.append((name, None))
        if not file_rejected:
            tally.mismatches.append("%s: Easegress rejects the file, we accept every document"
                                    % name)
    compare_warnings(tally, row, warnings, ignored_anywhere,
                     complete=all_checked and not file_rejected)
    return lines


def warnings_of(got):
    return [ln for ln in got[1].splitlines() if got[0] and ln.startswith("Warning")]


def compare_warnings(tally, row, warnings, ignored_anywhere, complete):
    """Each field INDEX.md says Easegress ignores in this file gets our unknown-field warning
    (checked when every document of the file was accepted here), and no field gets one that
    INDEX.md does not call ignored in some file: a warning for a field Easegress knows would
    turn into a refusal under --strict."""
    name = row["file"]
    expected = ignored_fields(row) if complete else []
    missing = [f for f in expected if not warned(f, warnings)]
    known_gap = KNOWN_MISSING_WARNINGS.get(name)
    if missing and not known_gap:
        tally.mismatches.append("%s: Easegress ignores %s; we accept without a warning"
                                % (name, ", ".join(missing)))
    if known_gap and not missing and expected:
        tally.mismatches.append("%s: now warned (%s); remove it from KNOWN_MISSING_WARNINGS"
                                % (name, ", ".join(expected)))
    if known_gap and missing:
        tally.warning_gaps.append((name, ", ".join(missing), known_gap))
    for w in warnings:
        if not any(warned(f, [w]) for f in ignored_anywhere):
            tally.mismatches.append("%s: we warn \"%s\", but INDEX.md does not list that "
                                    "field as one Easegress ignores" % (name, w))


def check_filters_alone(gw, name, number, doc, filter_kinds, tally, lines):
    """A Pipeline Easegress accepts but that uses a filter kind we lack: each filter of ours
    in it must still be accepted on its own (wrapped as a bare filter spec). -> our warnings."""
    warnings = []
    for j, spec in enumerate(pipeline_filters(doc["text"])):
        kind = scan_kinds(spec)["kinds"]
        if len(kind) != 1 or kind[0] not in filter_kinds:
            continue
        got = submit(gw, wrap_filter(spec, "example-filter-%d-%d" % (number, j)))
        tally.filters_alone.append((name, number, kind[0]))
        lines.append("      filter %d (%s) alone: %s" % (j, kind[0], verdict_line(got)))
        compare(tally, name, number, "accept", got, what=" filter %d (%s) alone" % (j, kind[0]))
        warnings += warnings_of(got)
    return warnings


def documented_missing_kinds():
    """docs/compatibility.md's table of kinds not implemented -> {kind: type}."""
    with open(COMPATIBILITY_DOC, encoding="utf-8") as f:
        text = f.read()
    section = text.split("## Kinds not implemented", 1)[1].split("\n## ", 1)[0]
    kinds = {}
    for line in section.splitlines():
        m = re.match(r"\| `(\w+)` \| ([\w ]+) \|", line)
        if m:
            kinds[m.group(1)] = m.group(2)
    assert kinds, "no kinds table in %s" % COMPATIBILITY_DOC
    return kinds


def check_documented(tally, object_kinds, filter_kinds):
    """docs/compatibility.md lists every kind the walk found missing, and none we serve."""
    documented = documented_missing_kinds()
    found = {k.split()[0] for _, _, kinds in tally.kind_missing for k in kinds}
    for kind in sorted(found - set(documented)):
        tally.mismatches.append("kind %s is not implemented but missing from "
                                "docs/compatibility.md" % kind)
    for kind, what in sorted(documented.items()):
        served = kind in object_kinds if what == "object" else kind in filter_kinds
        if served:
            tally.mismatches.append("docs/compatibility.md lists %s (%s) as not implemented, "
                                    "but the server has it" % (kind, what))


def test_easegress_examples_verdicts():
    if not os.path.exists(INDEX):
        print("SKIPPED test_easegress_examples_verdicts: %s is not there; Easegress's "
              "example verdicts not checked" % os.path.normpath(EXAMPLES))
        return
    with open(INDEX, encoding="utf-8") as f:
        rows = parse_index(f.read())
    assert rows, "no rows in INDEX.md"
    for row in rows:
        assert os.path.exists(os.path.join(EXAMPLES, row["file"])), "INDEX.md lists a missing " \
            "file: %s" % row["file"]
    gw = Gateway(workers=1).start()
    object_kinds, filter_kinds = implemented(gw)
    tally = Tally()
    ignored_anywhere = sorted({f for row in rows for f in ignored_fields(row)})
    for row in rows:
        before = len(tally.mismatches)
        lines = check_file(gw, row, object_kinds, filter_kinds, tally, ignored_anywhere)
        print("  %s %s: %s" % ("MISMATCH" if len(tally.mismatches) > before else "--",
                               row["file"], row["verdict"]))
        for line in lines:
            print(line)
    check_documented(tally, object_kinds, filter_kinds)
    print("  %d files, %d verdicts compared, %d filters checked alone in Pipelines we cannot "
          "build" % (len(rows), len(tally.checked), len(tally.filters_alone)))
    print("  %d documents with a kind not implemented, %d rejected for a feature not "
          "implemented yet, %d without a recorded verdict"
          % (len(tally.kind_missing), len(tally.feature_missing), len(tally.unrecorded)))
    for name, number, kinds in tally.kind_missing:
        print("    kind not implemented: %s doc %d (%s)" % (name, number, ", ".join(kinds)))
    for name, number, message in tally.feature_missing:
        print("    feature not implemented: %s doc %d (%s)" % (name, number, message))
    for name, fields, why in tally.warning_gaps:
        print("    ignored field not warned: %s (%s): %s" % (name, fields, why))
    assert not tally.mismatches, "%d verdict(s) differ from Easegress's:\n%s" % (
        len(tally.mismatches), "\n".join(tally.mismatches))
    assert tally.checked, "no verdict was compared"


test_easegress_examples_verdicts.timeout = 300
