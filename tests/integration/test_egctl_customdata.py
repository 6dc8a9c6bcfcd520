"""egctl's custom data verbs beyond create/get/delete (test_custom_data.py has those), as
Easegress's egctl has them: `get all` ending with the custom data kinds table, `describe
customdatakind [NAME]` and `describe customdata KIND [ID]`, `api-resources` listing both
resources, and `edit customdatakind NAME`, `edit customdata KIND` (all items, rebuilt) and
`edit customdata KIND ID` (one item, its id fixed) through $EGCTL_EDITOR scripts."""

import json
import os
import stat
import subprocess

from harness import EGCTL_BIN, Gateway, make_tmp_dir

DOCS = """\
kind: CustomDataKind
name: credentials
idField: key
---
kind: CustomData
name: credentials
list:
- {key: k1, user: alice, tier: gold}
- {key: k2, user: bob}
"""


def run(gw, *args, env=None):
    full = dict(os.environ)
    full.update(env or {})
    proc = subprocess.run([EGCTL_BIN, "--server", gw.server] + list(args), capture_output=True,
                          text=True, timeout=30, env=full)
    return proc.returncode, proc.stdout, proc.stderr


def ok(gw, *args, env=None):
    rc, out, err = run(gw, *args, env=env)
    assert rc == 0, "egctl %s: rc %d\nstdout: %s\nstderr: %s" % (" ".join(args), rc, out, err)
    return out


def one_error(rc, err):
    lines = [line for line in err.splitlines() if line.strip()]
    assert rc != 0 and len(lines) == 1 and lines[0].startswith("Error:"), (rc, err)
    return lines[0]


def rows(text):
    return [line.split() for line in text.splitlines() if line.strip()]


def test_get_all_describe_and_api_resources():
    gw = Gateway(workers=1).start()
    gw.create(DOCS)
    gw.create("kind: CustomDataKind\nname: empty\n")
    # get all: objects, members, then the custom data kinds.
    out = ok(gw, "get", "all")
    tables = [rows(t) for t in out.strip().split("\n\n")]
    assert len(tables) == 3, out
    assert tables[2] == [["NAME", "ID-FIELD", "JSON-SCHEMA", "DATA-NUM"],
                         ["credentials", "key", "no", "2"], ["empty", "-", "no", "0"]], out
    # Not for another namespace (members and kinds have none), as in Easegress.
    assert "credentials" not in ok(gw, "get", "all", "--namespace", "other")

    # describe customdatakind: the name first, then the other fields.
    out = ok(gw, "describe", "cdk", "credentials")
    assert out.splitlines() == ["Name: credentials", "IdField: key", "Len: 2"], out
    out = ok(gw, "describe", "customdatakinds")
    assert "Name: credentials" in out and "Name: empty" in out and "\n---\n" in out, out
    assert json.loads(ok(gw, "describe", "cdk", "credentials", "-o", "json"))["idField"] == "key"
    # describe customdata: each item with its id field first.
    out = ok(gw, "describe", "customdata", "credentials", "k1")
    assert out.splitlines() == ["Key: k1", "Tier: gold", "User: alice"], out
    items = ok(gw, "describe", "cd", "credentials").split("\n\n---\n\n")
    assert [i.splitlines()[0] for i in items] == ["Key: k1", "Key: k2"], items
    assert [d["key"] for d in json.loads(ok(gw, "describe", "cd", "credentials", "-o", "json"))] \
        == ["k1", "k2"]
    rc, _, err = run(gw, "describe", "customdata")
    assert "no custom data kind specified" in one_error(rc, err), err
    rc, _, err = run(gw, "describe", "cd", "credentials", "k3")
    line = one_error(rc, err)
    assert line.startswith("Error: describe CustomData with id k3 for kind credentials failed, 404"), line
    rc, _, err = run(gw, "describe", "cdk", "nope")
    assert "describe CustomDataKind nope failed, 404" in one_error(rc, err), err

    # api-resources: the two custom data resources before member, in Easegress's order.
    table = rows(ok(gw, "api-resources"))
    assert table[0] == ["NAME", "ALIASES", "CATEGORY", "KIND", "ACTION"], table
    assert table[-3:] == [
        ["customdatakind", "customdatakinds,cdk", "CustomDataKind", "create,apply,delete,get,describe"],
        ["customdata", "customdatas,cd", "CustomData", "create,apply,delete,get,describe"],
        ["member", "m,mem,members", "Member", "delete,get,describe"]], table
    assert gw.stop() == 0


def write_script(path, body):
    with open(path, "w") as f:
        f.write("#!/bin/sh\n" + body)
    os.chmod(path, os.stat(path).st_mode | stat.S_IXUSR)


def test_edit_custom_data():
    gw = Gateway(workers=1).start()
    gw.create(DOCS)
    tmp = str(make_tmp_dir("edit-cd-"))
    editor = os.path.join(tmp, "editor.sh")
    env = {"EGCTL_EDITOR": editor, "TMPDIR": tmp}

    def cd_json(*args):
        return json.loads(ok(gw, "get", "cd", "credentials", *args, "-o", "json"))

    # One item: what the editor sees, then the change applied.
    write_script(editor, 'cp "$1" "$1.seen"\nsed -i "s/tier: gold/tier: silver/" "$1"\n')
    out = ok(gw, "edit", "customdata", "credentials", "k1", env=env)
    assert out.strip() == "edit CustomData credentials k1 successfully", out
    seen = [f for f in os.listdir(tmp) if f.endswith(".seen")]
    with open(os.path.join(tmp, seen[0])) as f:
        assert f.read() == "# edit CustomData for kind credentials\n\nkey: k1\ntier: gold\nuser: alice\n"
    assert cd_json("k1") == {"key": "k1", "tier": "silver", "user": "alice"}
    # Its id cannot change: refused, nothing sent, the file kept.
    write_script(editor, 'sed -i "s/^key: k1$/key: k9/" "$1"\n')
    rc, _, err = run(gw, "edit", "cd", "credentials", "k1", env=env)
    line = one_error(rc, err)
    assert "edit CustomData credentials k1 failed, edit cannot change the key of custom data" in line
    kept = line.split("yaml saved in ")[1].strip()
    with open(kept) as f:
        assert "key: k9" in f.read()
    assert [d["key"] for d in cd_json()] == ["k1", "k2"]
    # An item that is not there.
    rc, _, err = run(gw, "edit", "cd", "credentials", "nope", env=env)
    assert "404" in one_error(rc, err), err

    # All items of the kind: the list rebuilt, so a deleted entry goes away.
    write_script(editor, 'cp "$1" "$1.batch"\n'
                         'sed -i "/^- key: k2$/,/^  user: bob$/d" "$1"\n'
                         'sed -i "s/user: alice/user: alicia/" "$1"\n')
    out = ok(gw, "edit", "cd", "credentials", env=env)
    assert out.strip() == "apply CustomData for kind credentials successfully", out
    batch = [f for f in os.listdir(tmp) if f.endswith(".batch")]
    with open(os.path.join(tmp, batch[0])) as f:
        assert f.read() == ("name: credentials\nkind: CustomData\nlist:\n- key: k1\n  tier: silver\n"
                            "  user: alice\n- key: k2\n  user: bob\nrebuild: true\n")
    assert cd_json() == [{"key": "k1", "tier": "silver", "user": "alicia"}]
    write_script(editor, 'sed -i "s/^name: credentials$/name: other/" "$1"\n')
    rc, _, err = run(gw, "edit", "cd", "credentials", env=env)
    assert "name is not equal: credentials, other" in one_error(rc, err), err

    # The kind: a JSON schema added; data against it is then checked by the server.
    write_script(editor, 'printf "jsonSchema:\\n  type: object\\n  required: [key, user]\\n" >> "$1"\n')
    out = ok(gw, "edit", "customdatakind", "credentials", env=env)
    assert out.strip() == "update CustomDataKind credentials successfully", out
    assert rows(ok(gw, "get", "cdk"))[1] == ["credentials", "key", "yes", "1"]
    write_script(editor, 'sed -i "/^user: /d" "$1"\n')
    rc, _, err = run(gw, "edit", "cd", "credentials", "k1", env=env)
    assert "400" in one_error(rc, err) and "user" in err, err
    out = ok(gw, "edit", "cdk", "credentials", env={"EGCTL_EDITOR": "true", "TMPDIR": tmp})
    assert out.strip() == "nothing changed", out
    rc, _, err = run(gw, "edit", "cdk", env=env)
    assert "no resource and name specified" in one_error(rc, err), err
    rc, _, err = run(gw, "edit", "cdk", "a", "b", env=env)
    assert "invalid args" in one_error(rc, err), err
    assert gw.stop() == 0
