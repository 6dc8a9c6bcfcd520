"""The admin API's metadata: object kinds, filter kinds and each filter kind's results."""

import json

from harness import Gateway, request


def get_json(gw, path):
    resp = request(gw.api_port, path)
    return resp.status, json.loads(resp.text)


def test_kinds_and_results():
    gw = Gateway(workers=1).start()
    status, kinds = get_json(gw, "/apis/v2/object-kinds")
    assert status == 200 and {"HTTPServer", "Pipeline", "GlobalFilter"} <= set(kinds), kinds
    status, filters = get_json(gw, "/apis/v1/metadata/objects/pipeline/filters")
    assert status == 200
    for kind in ("Proxy", "Lua", "RequestBuilder", "Mock", "Validator"):
        assert kind in filters, (kind, filters)
    status, results = get_json(gw, "/apis/v2/metadata/objects/pipeline/filters/Proxy/results")
    assert status == 200 and results == ["internalError", "clientError", "serverError", "failureCode",
                                         "timeout", "shortCircuited"], results
    status, results = get_json(gw, "/apis/v2/metadata/objects/pipeline/filters/ResultBuilder/results")
    assert status == 200 and "result9" in results and "buildErr" in results
    status, err = get_json(gw, "/apis/v2/metadata/objects/pipeline/filters/Nope/results")
    assert status == 404 and err["code"] == 404 and "Nope" in err["message"]
