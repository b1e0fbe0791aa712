"""The plugin's backwards invocations (storage, tools, models, apps), served by host calls."""

import base64
import json
from concurrent.futures import ThreadPoolExecutor

from paddock_plugin.errors import PluginError

from .errors import host_error_text

# The host takes 16 host calls in flight from a plugin: one worker each.
WORKERS = 16
# A little past the 250 s the SDK waits for an answer.
HOST_CALL_TIMEOUT = 300


class Backwards:
    def __init__(self, host, child):
        self._host = host
        self._child = child
        self._pool = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="paddock-dify-invoke")
        self._served = {
            "storage": self._storage,
            "tool": self._tool,
            "llm": self._llm,
            "fetch_app": self._fetch_app,
            "app": self._app,
        }

    def submit(self, session_id, tenant, invocation):
        """Serves `invocation` on a worker, for the tenant of the call it belongs to."""
        self._pool.submit(self._run, session_id, tenant, invocation)

    def refuse(self, session_id, invocation, message):
        """Answers at once with an error, so that the plugin does not wait for it."""
        request_id = invocation.get("backwards_request_id")
        self._reply(session_id, request_id, "error", message)
        self._reply(session_id, request_id, "end")

    def _run(self, session_id, tenant, invocation):
        request_id = invocation.get("backwards_request_id")
        try:
            serve = self._served.get(invocation.get("type"))
            if serve is None:
                raise LookupError(f"paddock does not serve {invocation.get('type')} invocations")
            for data in serve(invocation.get("request") or {}, tenant):
                self._reply(session_id, request_id, "response", "", data)
        except PluginError as error:
            self._reply(session_id, request_id, "error", host_error_text(error.message, error.code))
        except Exception as error:  # noqa: BLE001 - the plugin waits for an answer whatever happened
            self._reply(session_id, request_id, "error", str(error) or type(error).__name__)
        self._reply(session_id, request_id, "end")

    def _reply(self, session_id, request_id, event, message="", data=None):
        response = {"backwards_request_id": request_id, "event": event, "message": message, "data": data}
        self._child.send({"session_id": session_id, "event": "backwards_response", "data": response})

    def _call(self, method, params, tenant):
        if tenant:
            params["tenant"] = tenant
        return self._host.call(method, params, timeout=HOST_CALL_TIMEOUT)

    def _storage(self, request, tenant):
        opt, key = request.get("opt"), request.get("key")
        if opt == "set":
            value = base64.b64encode(bytes.fromhex(request.get("value") or "")).decode("ascii")
            self._call("storage.set", {"key": key, "value": value}, tenant)
            return [{"data": "ok"}]
        if opt == "del":
            self._call("storage.delete", {"key": key}, tenant)
            return [{"data": "ok"}]
        if opt not in ("get", "exist"):
            raise LookupError(f"paddock does not serve storage {opt} invocations")
        value = (self._call("storage.get", {"key": key}, tenant) or {}).get("value")
        if opt == "exist":
            return [{"data": value is not None}]
        if value is None:
            raise LookupError("key not found")
        return [{"data": base64.b64decode(value).hex()}]

    def _tool(self, request, tenant):
        params = {"plugin": _plugin(request.get("provider")), "tool": request.get("tool"), "params": request.get("tool_parameters") or {}}
        result = self._call("tool.invoke", params, tenant)
        if isinstance(result, dict) and isinstance(result.get("messages"), list):
            return result["messages"]  # another Dify plugin's messages
        if isinstance(result, (dict, list)):
            return [{"type": "json", "message": {"json_object": result}, "meta": None}]
        text = result if isinstance(result, str) else json.dumps(result, ensure_ascii=False)
        return [{"type": "text", "message": {"text": text}, "meta": None}]

    def _llm(self, request, tenant):
        messages = [{"role": m.get("role"), "content": _text(m.get("content"))} for m in request.get("prompt_messages") or []]
        params = {"plugin": _plugin(request.get("provider")), "model": request.get("model"), "messages": messages}
        params["params"] = request.get("completion_params") or {}
        result = self._call("model.invoke", params, tenant)
        content = result.get("content") if isinstance(result, dict) else None
        if not isinstance(content, str):
            content = json.dumps(result, ensure_ascii=False)
        message = {"role": "assistant", "content": content}
        return [{"model": request.get("model"), "prompt_messages": [], "system_fingerprint": None, "delta": {"index": 0, "message": message}}]

    def _fetch_app(self, request, tenant):
        return [{"data": self._call("app.get", {"id": request.get("app_id")}, tenant)}]

    def _app(self, request, tenant):
        body = base64.b64encode(json.dumps(request, ensure_ascii=False).encode("utf-8")).decode("ascii")
        params = {"id": request.get("app_id"), "method": "POST", "path": "/", "headers": {"content-type": "application/json"}, "body": body}
        result = self._call("app.invoke", params, tenant) or {}
        return [{"status": int(result.get("status") or 200), "data": _decoded(base64.b64decode(result.get("body") or ""))}]


def _plugin(provider):
    """The installed plugin a Dify provider names: Dify writes a plugin's
    provider as `author/plugin/provider` (or `author/plugin`); a bare name is
    the plugin's id itself."""
    if not isinstance(provider, str):
        return provider
    parts = provider.split("/")
    return parts[1] if len(parts) >= 2 else provider


def _text(content):
    """A prompt message's text: its string, or the text parts of a multimodal list."""
    if isinstance(content, list):
        return "".join(part.get("data", "") for part in content if isinstance(part, dict) and part.get("type") == "text")
    return content if isinstance(content, str) else ""


def _decoded(body):
    try:
        return json.loads(body)
    except ValueError:
        return body.decode("utf-8", "replace")
