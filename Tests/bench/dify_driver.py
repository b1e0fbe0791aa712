#!/usr/bin/env python3
"""A bare stdio driver for unmodified Dify plugins (SDK dify_plugin 0.9.0).

It does what the Dify plugin daemon does for a locally installed plugin, and
nothing more: start `PY -m main` in the plugin directory with
INSTALL_METHOD=local, wait for the first heartbeat, write requests to the
plugin's stdin and read its answers from stdout, then SIGKILL it. It is the
baseline Paddock's benchmark compares against and the reference its tests
compare results with. Standard library only (Python 3.11+).

    dify_driver.py --python PY --plugin DIR call TOOL --params JSON [--provider P] [--credentials JSON]
    dify_driver.py --python PY --plugin DIR validate --credentials JSON [--provider P]
    dify_driver.py --python PY --plugin DIR endpoint --method GET --path '/hello?name=x' [--body S] [--header 'K: V'] [--settings JSON]
    dify_driver.py --python PY --plugin DIR bench TOOL --params JSON --calls N

Output, one JSON document on stdout:
    call      {"messages": [...]} or {"error": {"error_type", "message", "args"}}
              (blob_chunk messages are joined into one {"type": "blob",
              "message": {"blob": <base64>}, "meta": ...} where the blob ended)
    validate  {"result": true} or {"error": ...}
    endpoint  {"status", "headers", "body": <base64>} or {"error": ...}
    bench     {"p50_us", "p90_us", "p99_us", "calls", "cold_start_ms"}
A plugin that answers nothing in --timeout seconds, or exits, gives
{"driver_error": {"kind": "timeout"|"exited"|"protocol", "message"}} and exit
status 3.

Backwards invocations (the plugin calling Dify) are answered as the daemon
answers them, after the daemon's permission check against the manifest:
storage in memory (or in the JSON file --storage, so that separate runs share
it), a builtin tool by running the plugin directory given with --peer that
provides it; anything else is refused.

Wire format (read from dify_plugin: plugin.py, core/server/stdio,
core/server/__base/response_writer.py, core/plugin_executor.py, core/runtime.py):
  host -> plugin, one JSON object a line:
    {"session_id", "conversation_id", "message_id", "app_id", "endpoint_id",
     "context", "event": "request", "data": {"type", "action", ...}}
    {"session_id", "event": "backwards_response",
     "data": {"backwards_request_id", "event": "response"|"error"|"end", "message", "data"}}
  plugin -> host, JSON lines ending in a blank line, after one line with the
  manifest (no "event"): {"event": "heartbeat"|"log"|"error"|"session",
  "session_id", "data"}; a session's data is {"type": "stream"|"invoke"|"error"|"end", "data"}.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import json
import os
import posixpath
import resource
import select
import subprocess
import sys
import tempfile
import time
import uuid

PERMISSION_DENIED = "permission denied, you need to enable {} access in plugin manifest"


class DriverError(Exception):
    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


# --------------------------------------------------------------------------
# The few manifest facts the driver needs, from a tiny reader of the block
# YAML Dify manifests are written in (the standard library has no YAML).
# --------------------------------------------------------------------------


def _scalar(text: str) -> str:
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        return text[1:-1]
    if " #" in text:
        text = text.split(" #", 1)[0].rstrip()
    return text


def yaml_paths(text: str) -> dict[str, str]:
    """Flatten block-style YAML into {"a.b.0.c": "scalar"}. Flow collections,
    anchors and multi-line scalars are left uninterpreted."""
    out: dict[str, str] = {}
    counts: dict[str, int] = {}
    stack: list[tuple[int, str, bool]] = []  # (indent, path, is a list item)

    def key_line(indent: int, body: str) -> None:
        while stack and stack[-1][0] >= indent:
            stack.pop()
        key, sep, value = body.partition(":")
        if not sep:
            return  # a continuation line
        path = (stack[-1][1] + "." if stack else "") + _scalar(key)
        if value.strip():
            out[path] = _scalar(value)
        else:
            stack.append((indent, path, False))

    for raw in text.splitlines():
        body = raw.strip()
        if not body or body.startswith("#"):
            continue
        indent = len(raw) - len(raw.lstrip(" "))
        if body == "-" or body.startswith("- "):
            while stack and (stack[-1][0] > indent or (stack[-1][0] == indent and stack[-1][2])):
                stack.pop()
            parent = stack[-1][1] if stack else ""
            index = counts.get(parent, 0)
            counts[parent] = index + 1
            path = f"{parent}.{index}" if parent else str(index)
            rest = body[1:].strip()
            stack.append((indent, path, True))
            if rest and ":" in rest and not rest.startswith(("'", '"')):
                key_line(indent + 2, rest)
            elif rest:
                out[path] = _scalar(rest)
        else:
            key_line(indent, body)
    return out


class Manifest:
    def __init__(self, directory: str) -> None:
        with open(os.path.join(directory, "manifest.yaml"), encoding="utf-8") as f:
            m = yaml_paths(f.read())
        self.name = m.get("name", os.path.basename(os.path.abspath(directory)))
        perm = "resource.permission."

        def on(*keys: str) -> bool:
            return all(m.get(perm + k, "").lower() == "true" for k in keys)

        self.allowed = {
            "tool": on("tool.enabled"),
            "storage": on("storage.enabled"),
            "app": on("app.enabled"),
            "fetch_app": on("app.enabled"),
            "llm": on("model.enabled", "model.llm"),
            "llm_structured_output": on("model.enabled", "model.llm"),
            "system_summary": on("model.enabled", "model.llm"),
            "text_embedding": on("model.enabled", "model.text_embedding"),
            "rerank": on("model.enabled", "model.rerank"),
            "tts": on("model.enabled", "model.tts"),
            "speech2text": on("model.enabled", "model.speech2text"),
            "moderation": on("model.enabled", "model.moderation"),
            "node_parameter_extractor": on("node.enabled"),
            "node_question_classifier": on("node.enabled"),
            "upload_file": True,
        }
        self.storage_size = int(m.get(perm + "storage.size", "1048576"))
        self.providers = []
        i = 0
        while f"plugins.tools.{i}" in m:
            with open(os.path.join(directory, m[f"plugins.tools.{i}"]), encoding="utf-8") as f:
                self.providers.append(yaml_paths(f.read()).get("identity.name", ""))
            i += 1


def permission_error(kind: str) -> str:
    label = {
        "tool": "tool", "storage": "storage", "app": "app", "fetch_app": "app",
        "llm": "llm", "llm_structured_output": "llm", "system_summary": "llm",
        "text_embedding": "text-embedding", "rerank": "rerank", "tts": "tts",
        "speech2text": "speech2text", "moderation": "moderation",
        "node_parameter_extractor": "node", "node_question_classifier": "node",
    }[kind]
    return PERMISSION_DENIED.format(label)


# --------------------------------------------------------------------------
# Storage, as the daemon's persistence answers it
# --------------------------------------------------------------------------


class Storage:
    def __init__(self, path: str | None) -> None:
        self.path = path
        self.data: dict[str, dict[str, str]] = {}  # plugin -> key -> hex
        if path and os.path.exists(path):
            with open(path, encoding="utf-8") as f:
                self.data = json.load(f)

    def _save(self) -> None:
        if self.path:
            tmp = self.path + ".tmp"
            with open(tmp, "w", encoding="utf-8") as f:
                json.dump(self.data, f)
            os.replace(tmp, self.path)

    @staticmethod
    def _check_key(key: str) -> None:
        key = posixpath.normpath(key)
        if ".." in key or "//" in key or "\\" in key:
            raise ValueError("invalid key: path traversal attempt detected")

    def handle(self, plugin: str, max_size: int, request: dict) -> dict:
        """The answer to one storage request, or ValueError with the daemon's message."""
        space = self.data.setdefault(plugin, {})
        opt, key = request.get("opt"), str(request.get("key", ""))
        if opt == "set":
            try:
                value = bytes.fromhex(request.get("value", ""))
            except ValueError as e:
                raise ValueError(f"decode data failed: {e}") from None
            try:
                self._check_key(key)
                if len(key) > 256:
                    raise ValueError("key length must be less than 256 characters")
                used = sum(len(v) // 2 for k, v in space.items() if k != key)
                if used + len(value) > max_size:
                    raise ValueError("allocated size is greater than max storage size")
            except ValueError as e:
                raise ValueError(f"save data failed: {e}") from None
            space[key] = value.hex()
            self._save()
            return {"data": "ok"}
        if opt == "get":
            self._check_key(key)
            if key not in space:
                raise ValueError("load data failed, please check if the key is correct or you have not set it")
            return {"data": space[key]}
        if opt == "del":
            self._check_key(key)
            deleted = 1 if space.pop(key, None) is not None else 0
            self._save()
            return {"data": "ok", "deleted_num": deleted}
        if opt == "exist":
            self._check_key(key)
            return {"data": key in space, "exist_num": int(key in space)}
        raise ValueError(f"unsupported storage opt: {opt!r}")


# --------------------------------------------------------------------------
# One plugin process
# --------------------------------------------------------------------------


class Plugin:
    def __init__(self, opts: argparse.Namespace, directory: str, storage: Storage) -> None:
        self.opts = opts
        self.directory = directory
        self.manifest = Manifest(directory)
        self.storage = storage
        self.peers: dict[str, Plugin] = {}
        self.buffer = bytearray()
        self.lines: list[bytes] = []

        env = dict(os.environ, INSTALL_METHOD="local")
        if opts.pythonpath:
            env["PYTHONPATH"] = opts.pythonpath
        memory = opts.memory

        def limit() -> None:
            if memory:
                resource.setrlimit(resource.RLIMIT_AS, (memory, memory))

        self.stderr = None if opts.verbose else tempfile.TemporaryFile()
        started = time.perf_counter()
        self.proc = subprocess.Popen(
            [opts.python, "-m", "main"],
            cwd=directory,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.stderr,
            preexec_fn=limit if memory else None,
        )
        self.fd = self.proc.stdout.fileno()
        deadline = time.monotonic() + opts.timeout
        try:
            while self._next_event(deadline).get("event") != "heartbeat":
                pass
        except BaseException:
            self.kill()
            raise
        self.cold_start_ms = (time.perf_counter() - started) * 1000

    # -- reading -----------------------------------------------------------

    def _stderr_tail(self) -> str:
        if self.stderr is None:
            return ""
        self.stderr.seek(0, os.SEEK_END)
        self.stderr.seek(max(0, self.stderr.tell() - 4000))
        return self.stderr.read().decode("utf-8", "replace")

    def _next_line(self, deadline: float) -> bytes:
        while not self.lines:
            wait = deadline - time.monotonic()
            if wait <= 0 or not select.select([self.fd], [], [], wait)[0]:
                raise DriverError("timeout", f"{self.manifest.name}: no answer within {self.opts.timeout:g} s")
            chunk = os.read(self.fd, 1 << 16)
            if not chunk:
                code = self.proc.wait()
                tail = self._stderr_tail()
                raise DriverError("exited", f"{self.manifest.name} exited with status {code}" + (f": {tail}" if tail else ""))
            self.buffer += chunk
            if b"\n" in chunk:
                *complete, rest = bytes(self.buffer).split(b"\n")
                self.buffer = bytearray(rest)
                self.lines = [line for line in complete if line.strip()]
                self.lines.reverse()
        return self.lines.pop()

    def _next_event(self, deadline: float) -> dict:
        """The next JSON event; non-JSON lines and the manifest line are skipped."""
        while True:
            line = self._next_line(deadline)
            try:
                event = json.loads(line)
            except ValueError:
                if self.opts.verbose:
                    print(f"[{self.manifest.name}] {line.decode('utf-8', 'replace')}", file=sys.stderr)
                continue
            if isinstance(event, dict) and "event" in event:
                if self.opts.verbose and event["event"] in ("log", "error"):
                    print(f"[{self.manifest.name}] {line.decode('utf-8', 'replace')}", file=sys.stderr)
                return event

    # -- writing -----------------------------------------------------------

    def _send(self, message: dict) -> None:
        self.proc.stdin.write(json.dumps(message).encode() + b"\n")
        self.proc.stdin.flush()

    # -- one request ---------------------------------------------------------

    def request(self, data: dict, endpoint_id: str | None = None) -> tuple[list, dict | None]:
        """Send one request; return (what it streamed, its error or None)."""
        sid = uuid.uuid4().hex
        self._send({
            "session_id": sid,
            "conversation_id": None,
            "message_id": None,
            "app_id": None,
            "endpoint_id": endpoint_id,
            "context": {},
            "event": "request",
            "data": data,
        })
        deadline = time.monotonic() + self.opts.timeout
        stream: list = []
        error = None
        blobs: dict[str, list] = {}
        while True:
            event = self._next_event(deadline)
            kind = event["event"]
            if event.get("session_id") != sid:
                continue  # heartbeats, logs, reader errors without a session
            if kind == "error":  # the router could not build the request
                error = error or event.get("data")
                continue
            if kind != "session":
                continue
            message = event.get("data") or {}
            mtype, payload = message.get("type"), message.get("data")
            if mtype == "stream":
                if isinstance(payload, dict) and payload.get("type") == "blob_chunk":
                    chunk = payload["message"]
                    parts = blobs.setdefault(chunk["id"], [])
                    parts.append((chunk["sequence"], chunk["blob"]))
                    if chunk["end"]:
                        del blobs[chunk["id"]]
                        parts.sort()
                        blob = b"".join(base64.b64decode(b) for _, b in parts)
                        if len(blob) != chunk["total_length"]:
                            raise DriverError("protocol", f"blob {chunk['id']}: {len(blob)} bytes, announced {chunk['total_length']}")
                        stream.append({
                            "type": "blob",
                            "message": {"blob": base64.b64encode(blob).decode()},
                            "meta": payload.get("meta"),
                        })
                else:
                    stream.append(payload)
            elif mtype == "error":
                error = error or payload
            elif mtype == "end":
                return stream, error
            elif mtype == "invoke":
                self._invoke(sid, payload)

    # -- backwards invocations ---------------------------------------------------

    def _reply(self, sid: str, rid: str, event: str, message: str = "", data=None) -> None:
        self._send({
            "session_id": sid,
            "event": "backwards_response",
            "data": {"backwards_request_id": rid, "event": event, "message": message, "data": data},
        })

    def _invoke(self, sid: str, payload: dict) -> None:
        rid = payload.get("backwards_request_id", "")
        kind = payload.get("type", "")
        request = payload.get("request") or {}
        if kind not in self.manifest.allowed:
            self._reply(sid, rid, "error", f"unsupported invoke type: {kind}")
        elif not self.manifest.allowed[kind]:
            self._reply(sid, rid, "error", permission_error(kind))
        elif kind == "storage":
            try:
                answer = self.storage.handle(self.manifest.name, self.manifest.storage_size, request)
                self._reply(sid, rid, "response", "struct", answer)
            except ValueError as e:
                self._reply(sid, rid, "error", str(e))
        elif kind == "tool":
            stream, failure = self._invoke_tool(request)
            for message in stream:
                self._reply(sid, rid, "response", "stream", message)
            if failure:
                self._reply(sid, rid, "error", failure)
        else:
            self._reply(sid, rid, "error", f"invoke {kind} failed: the bare driver serves storage and builtin tools only")
        self._reply(sid, rid, "end")

    def _invoke_tool(self, request: dict) -> tuple[list, str | None]:
        """A builtin tool, run by the --peer plugin that provides it: (messages, error)."""
        provider = request.get("provider", "")
        if request.get("tool_type", "builtin") != "builtin":
            return [], f"invoke tool failed: {request.get('tool_type')} tools are not served by the bare driver"
        peer = self.peers.get(provider)
        if peer is None:
            for directory in self.opts.peer or []:
                if provider in Manifest(directory).providers:
                    peer = self.peers[provider] = Plugin(self.opts, directory, self.storage)
                    break
            else:
                return [], f"invoke tool failed: tool provider {provider} not found"
        stream, error = peer.request(tool_request(provider, request.get("tool", ""), request.get("tool_parameters") or {}, {}))
        return stream, (f"invoke tool failed: {json.dumps(error)}" if error is not None else None)

    def kill(self) -> None:
        for peer in self.peers.values():
            peer.kill()
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()


def tool_request(provider: str, tool: str, params: dict, credentials: dict) -> dict:
    return {
        "user_id": "paddock-driver",
        "type": "tool",
        "action": "invoke_tool",
        "provider": provider,
        "tool": tool,
        "credentials": credentials,
        "credential_type": "api-key",
        "tool_parameters": params,
    }


def raw_http_request(method: str, path: str, headers: list[str], body: bytes) -> bytes:
    """The request as the daemon forwards it: HTTP/1.1 text, endpoint prefix removed."""
    lines = [f"{method.upper()} {path} HTTP/1.1", "Host: localhost"]
    lines += headers
    if body and not any(h.lower().startswith("content-length:") for h in headers):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def percentile(sorted_values: list[float], p: float) -> float:
    rank = max(1, -(-len(sorted_values) * p // 100))  # nearest rank
    return sorted_values[int(rank) - 1]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--python", required=True, help="interpreter with dify_plugin installed")
    ap.add_argument("--plugin", required=True, help="plugin directory (manifest.yaml, main.py)")
    ap.add_argument("--pythonpath", help="PYTHONPATH for the plugin")
    ap.add_argument("--timeout", type=float, default=60, help="seconds to wait for a start or an answer (60)")
    ap.add_argument("--memory", type=int, help="address-space limit of the plugin in bytes (RLIMIT_AS); give one for tools that hog memory")
    ap.add_argument("--storage", help="JSON file holding plugin storage across runs")
    ap.add_argument("--peer", action="append", help="plugin directory serving builtin tool invocations (repeatable)")
    ap.add_argument("--verbose", action="store_true", help="plugin stderr and log lines to stderr")
    sub = ap.add_subparsers(dest="command", required=True)
    for name in ("call", "bench"):
        p = sub.add_parser(name)
        p.add_argument("tool")
        p.add_argument("--params", default="{}")
        p.add_argument("--provider")
        p.add_argument("--credentials", default="{}")
        if name == "bench":
            p.add_argument("--calls", type=int, default=100)
    p = sub.add_parser("validate")
    p.add_argument("--provider")
    p.add_argument("--credentials", default="{}")
    p = sub.add_parser("endpoint")
    p.add_argument("--method", default="GET")
    p.add_argument("--path", required=True)
    p.add_argument("--body", default="")
    p.add_argument("--header", action="append", default=[], help="'Name: value' (repeatable)")
    p.add_argument("--settings", default="{}")
    opts = ap.parse_args()

    if not os.path.isfile(os.path.join(opts.plugin, "manifest.yaml")):
        ap.error(f"{opts.plugin}: no manifest.yaml")
    provider = getattr(opts, "provider", None)
    if opts.command in ("call", "bench", "validate") and not provider:
        providers = Manifest(opts.plugin).providers
        if len(providers) != 1:
            ap.error(f"the plugin has {len(providers)} tool providers; name one with --provider")
        provider = providers[0]

    plugin = None
    try:
        plugin = Plugin(opts, opts.plugin, Storage(opts.storage))
        if opts.command == "call":
            data = tool_request(provider, opts.tool, json.loads(opts.params), json.loads(opts.credentials))
            stream, error = plugin.request(data)
            result = {"error": error} if error is not None else {"messages": stream}
            if error is not None and stream:
                result["messages"] = stream
        elif opts.command == "validate":
            stream, error = plugin.request({
                "user_id": "paddock-driver",
                "type": "tool",
                "action": "validate_tool_credentials",
                "provider": provider,
                "credentials": json.loads(opts.credentials),
            })
            result = {"error": error} if error is not None else (stream[-1] if stream else {})
        elif opts.command == "endpoint":
            raw = raw_http_request(opts.method, opts.path, opts.header, opts.body.encode())
            stream, error = plugin.request({
                "type": "endpoint",
                "action": "invoke_endpoint",
                "settings": json.loads(opts.settings),
                "raw_http_request": binascii.hexlify(raw).decode(),
            }, endpoint_id=uuid.uuid4().hex)
            if error is not None:
                result = {"error": error}
            else:
                head = stream[0] if stream else {}
                body = b"".join(binascii.unhexlify(part.get("result", "")) for part in stream)
                result = {
                    "status": head.get("status"),
                    "headers": head.get("headers", {}),
                    "body": base64.b64encode(body).decode(),
                }
        else:  # bench
            data = tool_request(provider, opts.tool, json.loads(opts.params), json.loads(opts.credentials))
            times = []
            for _ in range(opts.calls):
                started = time.perf_counter_ns()
                _, error = plugin.request(data)
                times.append((time.perf_counter_ns() - started) / 1000)
                if error is not None:
                    raise DriverError("protocol", f"call failed during the benchmark: {json.dumps(error)}")
            times.sort()
            result = {
                "p50_us": round(percentile(times, 50), 1),
                "p90_us": round(percentile(times, 90), 1),
                "p99_us": round(percentile(times, 99), 1),
                "calls": opts.calls,
                "cold_start_ms": round(plugin.cold_start_ms, 1),
            }
    except DriverError as e:
        print(json.dumps({"driver_error": {"kind": e.kind, "message": e.message}}))
        return 3
    finally:
        if plugin is not None:
            plugin.kill()
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
