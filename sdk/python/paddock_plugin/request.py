"""An HTTP request to a plugin endpoint, and the response a handler returns."""

import base64
import json


class Request:
    def __init__(self, params):
        self.method = params.get("method", "GET")
        self.path = params.get("path", "/")
        self.query = params.get("query") or {}
        self.headers = {k.lower(): v for k, v in (params.get("headers") or {}).items()}
        self.body = base64.b64decode(params.get("body") or "")
        # The endpoint's parameters, validated by the host from query and body.
        self.params = params.get("params") or {}

    def json(self):
        return json.loads(self.body or b"null")


def encode_response(response):
    """A handler's {"status", "headers", "body"} as the wire wants it (body in base64)."""
    if not isinstance(response, dict):
        response = {"body": response}
    headers = {str(k): str(v) for k, v in (response.get("headers") or {}).items()}
    body = response.get("body")
    if isinstance(body, (dict, list)):
        body = json.dumps(body, ensure_ascii=False).encode("utf-8")
        headers.setdefault("content-type", "application/json")
    elif isinstance(body, str):
        body = body.encode("utf-8")
        headers.setdefault("content-type", "text/plain; charset=utf-8")
    elif body is None:
        body = b""
    return {"status": int(response.get("status", 200)), "headers": headers, "body": base64.b64encode(body).decode("ascii")}
