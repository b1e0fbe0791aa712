"""Paddock's calls as the requests a Dify plugin reads."""

import base64
from urllib.parse import quote, urlencode

# Headers the bridge writes itself, from the body it sends.
_FRAMING = frozenset({"content-length", "transfer-encoding"})


class Declaration:
    """What the plugin declares, from its Dify yaml files (PADDOCK_DIFY)."""

    def __init__(self, value):
        value = value if isinstance(value, dict) else {}
        self.tools = dict(value.get("tools") or {})  # tool name -> provider name
        self.endpoints = [
            {"method": str(e.get("method", "GET")).upper(), "path": str(e.get("path", "/"))}
            for e in value.get("endpoints") or []
        ]
        self.tool_provider = value.get("tool_provider")

    def announcement(self):
        """What the plugin implements, as `initialize` answers it."""
        return {
            "tools": sorted(self.tools),
            "endpoints": self.endpoints,
            "models": [],
            "credentials": bool(self.tool_provider),
        }


def scope(params):
    """The call's `context` (tenant, settings, credentials), or {}."""
    context = params.get("context")
    return context if isinstance(context, dict) else {}


def tool_request(params, provider, settings, tenant):
    return {
        "user_id": tenant or "paddock",
        "type": "tool",
        "action": "invoke_tool",
        "provider": provider,
        "tool": params.get("tool"),
        # What Dify calls a tool's credentials, Paddock calls the plugin's settings.
        "credentials": settings,
        "credential_type": "api-key",
        "tool_parameters": params.get("params") or {},
    }


def validate_request(provider, credentials):
    return {
        "user_id": "paddock",
        "type": "tool",
        "action": "validate_tool_credentials",
        "provider": provider,
        "credentials": credentials,
    }


def endpoint_request(params, settings):
    return {
        "type": "endpoint",
        "action": "invoke_endpoint",
        "settings": settings,
        "raw_http_request": raw_http(params).hex(),
    }


def raw_http(params):
    """The endpoint call as the HTTP/1.1 request bytes Dify's daemon would forward."""
    method = str(params.get("method") or "GET").upper()
    # An encoded path passes as it is; what a request line cannot hold is encoded.
    target = quote(str(params.get("path") or "/"), safe="/%:@!$&'()*+,;=~")
    if params.get("query"):
        target += "?" + urlencode(params["query"], doseq=True)
    body = base64.b64decode(params.get("body") or "")
    lines = [f"{method} {target} HTTP/1.1"]
    headers = {str(k): str(v) for k, v in (params.get("headers") or {}).items()}
    if not any(name.lower() == "host" for name in headers):
        lines.append("Host: localhost")
    for name, value in headers.items():
        if name.lower() in _FRAMING or _breaks_line(name) or _breaks_line(value):
            continue
        lines.append(f"{name}: {value}")
    lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8") + body


def _breaks_line(text):
    return "\r" in text or "\n" in text
