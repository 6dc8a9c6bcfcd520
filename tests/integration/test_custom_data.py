"""Custom data kinds and items (admin API /customdatakinds and /customdata, egctl), their
JSON Schema validation, their durability across restarts, and the HeaderLookup filter that
sets request headers from them (with an update seen by the next request).

Easegress's own end-to-end TestCustomData (build/test/integration_test.go) creates a kind
and items with egctl, lists and gets them, updates and deletes them; the same steps are
here, with the answers checked."""

import json

from harness import Gateway, free_port, request, wait_status

API = "/apis/v2"

KIND = {
    "name": "users",
    "idField": "id",
    "jsonSchema": {
        "type": "object",
        "required": ["id", "age"],
        "properties": {"id": {"type": "string"}, "age": {"type": "integer", "minimum": 0}},
    },
}


def call(gw, method, path, body=None):
    data = json.dumps(body) if body is not None and not isinstance(body, str) else body
    status, headers, text = gw.api(method, API + path, body=data)
    headers = {k.lower(): v for k, v in headers}
    return status, headers, json.loads(text) if text and text.strip()[:1] in "[{" else text


def test_custom_data_api():
    gw = Gateway(workers=1).start()
    status, headers, _ = call(gw, "POST", "/customdatakinds", KIND)
    assert status == 201 and headers.get("location") == API + "/customdatakinds/users", (status, headers)
    assert int(headers.get("x-config-version")) > 0
    assert call(gw, "POST", "/customdatakinds", KIND)[0] == 409
    status, _, body = call(gw, "POST", "/customdatakinds", {"name": "bad", "jsonSchema": {"type": "strin"}})
    assert status == 400 and body["message"] == 'invalid JSONSchema: (root): unknown type "strin"', body
    assert call(gw, "POST", "/customdatakinds", {"idField": "x"})[2]["message"] == "name: required"
    assert call(gw, "PUT", "/customdatakinds", {"name": "nope"})[0] == 404

    # items: create, conflicts, validation, the id field
    status, headers, _ = call(gw, "POST", "/customdata/users", {"id": "u1", "age": 30})
    assert status == 201 and headers.get("location") == API + "/customdata/users/u1"
    assert call(gw, "POST", "/customdata/users", {"id": "u1", "age": 31})[0] == 409
    status, _, body = call(gw, "POST", "/customdata/users", {"id": "u2", "age": -1})
    assert status == 400 and body["message"] == "validation failed: age: must be greater than or equal to 0", body
    status, _, body = call(gw, "POST", "/customdata/users", {"name": "u2", "age": 1})
    assert status == 400 and "data id is empty" in body["message"], body
    assert call(gw, "PUT", "/customdata/users", {"id": "u1", "age": 31})[0] == 200
    assert call(gw, "PUT", "/customdata/users", {"id": "zz", "age": 1})[0] == 404
    assert call(gw, "GET", "/customdata/users/u1")[2] == {"id": "u1", "age": 31}
    assert call(gw, "GET", "/customdata/users/none")[0] == 404
    assert call(gw, "GET", "/customdata/nokind")[0] == 404

    # the batch: all checked before anything is written
    status, _, body = call(gw, "POST", "/customdata/users/items",
                           {"list": [{"id": "u3", "age": 3}, {"id": "u4", "age": "x"}]})
    assert status == 400 and body["message"].startswith("list[1]: validation failed: age: Invalid type"), body
    assert [d["id"] for d in call(gw, "GET", "/customdata/users")[2]] == ["u1"]
    status, _, _ = call(gw, "POST", "/customdata/users/items",
                        {"delete": ["u1"], "list": [{"id": "u3", "age": 3}, {"id": "u4", "age": 4}]})
    assert status == 200
    assert [d["id"] for d in call(gw, "GET", "/customdata/users")[2]] == ["u3", "u4"]
    status, _, _ = call(gw, "POST", "/customdata/users/items", {"rebuild": True, "list": [{"id": "u5", "age": 5}]})
    assert status == 200
    assert call(gw, "GET", "/customdata/users")[2] == [{"id": "u5", "age": 5}]

    kinds = call(gw, "GET", "/customdatakinds")[2]
    assert kinds == [dict(KIND, len=1)], kinds
    assert call(gw, "GET", "/customdatakinds/users")[2]["len"] == 1

    # durable: a restart brings back kinds and items
    gw.restart()
    assert call(gw, "GET", "/customdata/users")[2] == [{"id": "u5", "age": 5}]
    assert call(gw, "DELETE", "/customdata/users/u5")[0] == 200
    assert call(gw, "DELETE", "/customdata/users/u5")[0] == 404
    assert call(gw, "DELETE", "/customdatakinds/users")[0] == 200
    assert call(gw, "GET", "/customdatakinds")[2] == []
    gw.restart()
    assert call(gw, "GET", "/customdatakinds")[2] == []


DOCS = """\
kind: CustomDataKind
name: credentials
idField: key
jsonSchema:
  type: object
  required: [key, user]
  properties:
    user: {type: string, pattern: "^[a-z]+$"}
---
kind: CustomData
name: credentials
list:
- {key: k1, user: alice, tier: gold, level: 3}
- {key: k2, user: bob}
- {key: k1-fruit, user: carol}
"""

PIPELINE = """\
name: lookup
kind: Pipeline
flow:
  - filter: hl
  - filter: echo
filters:
  - name: hl
    kind: HeaderLookup
    headerKey: X-Api-Key
    etcdPrefix: credentials/
    pathRegExp: "^/p/([a-z]+)"
    headerSetters:
    - {etcdKey: user, headerKey: X-User}
    - {etcdKey: tier, headerKey: X-Tier}
    - {etcdKey: level, headerKey: X-Level}
  - name: echo
    kind: Lua
    code: |
      local r = ctx.req
      ctx:respond(200, (r:header("X-User") or "-") .. " " .. (r:header("X-Tier") or "-") .. " "
        .. (r:header("X-Level") or "-"))
---
kind: HTTPServer
name: hl-server
port: {port}
rules:
- paths:
  - pathPrefix: /
    backend: lookup
"""


def who(port, key, path="/"):
    resp = request(port, path, headers={"X-Api-Key": key} if key else None)
    assert resp.status == 200, resp
    return resp.text


def test_egctl_and_header_lookup():
    gw = Gateway(workers=2).start()
    out = gw.create(DOCS)
    port = free_port()
    gw.create(PIPELINE.replace("{port}", str(port)))
    rc, out, err = gw.egctl("get", "customdatakind")
    assert rc == 0 and out.split() == ["NAME", "ID-FIELD", "JSON-SCHEMA", "DATA-NUM",
                                       "credentials", "key", "yes", "3"], out
    rc, out, err = gw.egctl("get", "customdata", "credentials")
    assert rc == 0 and out.split() == ["KEY", "k1", "k1-fruit", "k2"], out
    rc, out, err = gw.egctl("get", "cd", "credentials", "k2", "-o", "json")
    assert rc == 0 and json.loads(out) == {"key": "k2", "user": "bob"}, out

    wait_status(port, "/", 200)
    assert who(port, "k1") == "alice gold 3"
    assert who(port, "k2") == "bob - -"
    assert who(port, "k9") == "- - -"
    assert who(port, None) == "- - -"
    assert who(port, "k1", "/p/fruit/1") == "carol - -"   # pathRegExp: id k1-fruit
    assert who(port, "k2", "/p/fruit/1") == "- - -"       # k2-fruit: none

    # an update is seen by the next request, through both workers
    rc, out, err = gw.egctl("apply", "-f", "-", stdin="kind: CustomData\nname: credentials\n"
                            "delete: [k2]\nlist:\n- {key: k1, user: dave}\n")
    assert rc == 0 and "apply CustomData for kind credentials successfully" in out, out + err
    for _ in range(4):
        assert who(port, "k1") == "dave - -"
        assert who(port, "k2") == "- - -"

    # validation errors reach egctl; nothing is applied
    rc, out, err = gw.egctl("apply", "-f", "-", stdin="kind: CustomData\nname: credentials\n"
                            "list:\n- {key: k5, user: Eve}\n")
    assert rc != 0 and "list[0]: validation failed: user: does not match pattern" in err, out + err
    rc, out, err = gw.egctl("delete", "customdata", "credentials", "k1")
    assert rc == 0 and "delete CustomData k1 for kind credentials successfully" in out, out + err
    assert who(port, "k1") == "- - -"
    rc, out, err = gw.egctl("delete", "customdatakind", "credentials")
    assert rc == 0, err
    rc, out, err = gw.egctl("get", "customdata", "credentials")
    assert rc != 0 and "custom data kind credentials not found" in err, out + err

    # apply of a kind updates it in place (items kept)
    gw.create(DOCS)
    rc, out, err = gw.egctl("apply", "-f", "-", stdin="kind: CustomDataKind\nname: credentials\nidField: key\n")
    assert rc == 0 and "update CustomDataKind credentials successfully" in out, out + err
    rc, out, err = gw.egctl("get", "cdk")
    assert out.split()[4:] == ["credentials", "key", "no", "3"], out
