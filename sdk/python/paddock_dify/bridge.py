"""The bridge: Paddock's protocol on the host's socket, Dify's on the plugin's pipes.

The main thread reads the plugin's stdout (and so is the one to end like the
plugin when it dies); another reads the host's socket. Each passes on what
it reads itself, so a call costs no thread hand-off; backwards invocations
wait for the host on a pool.
"""

import json
import os
import sys
import threading
import time
import uuid

from . import SDK
from .backwards import Backwards
from .calls import Call, Refused
from .child import DifyProcess, end_like
from .errors import coded
from .host import Host
from .lines import MAX_LINE, Overlong, decode, loads, read_batches, session_of
from .translate import Declaration, endpoint_request, scope, tool_request, validate_request

# A plugin whose last heartbeat is older is not answered for (Dify beats every 10 s).
HEARTBEAT_LIMIT = 30.0


class Bridge:
    def __init__(self, host, child, declaration):
        self.host = host
        self.child = child
        self.declaration = declaration
        self.backwards = Backwards(host, child)
        self.settings = {}
        # Session id -> Call. Only single dict operations touch it: atomic, no lock needed.
        self.sessions = {}
        self.lock = threading.Lock()  # guards the two below
        self.last_heartbeat = None
        self.initializing = []  # `initialize` requests waiting for the first heartbeat
        self.exit_code = None  # set once the bridge stops on its own account
        self.methods = {
            "initialize": self.initialize,
            "tool.invoke": self.tool_invoke,
            "credentials.validate": self.credentials_validate,
            "endpoint.invoke": self.endpoint_invoke,
            "ping": self.ping,
            "shutdown": self.shutdown,
            # Dify has no cancellation: the host kills the plugin if the call does not end.
            "$/cancel": _ignore,
            # Chunks of the bridge's own host calls: their answers carry everything.
            "stream.chunk": _ignore,
        }

    def run(self):
        """Serves until the plugin ends (then ends like it) or the host goes."""
        threading.Thread(target=self.serve_host, name="paddock-dify-host", daemon=True).start()
        try:
            for lines in read_batches(self.child.stdout.fileno()):
                self.host.hold()
                for line in lines:
                    self.on_line(line)
                self.host.release()
        except OSError as error:  # the host's socket failed under a write
            self.stop(1, f"connection to the host lost: {error}")
        status = self.child.wait()
        if self.exit_code is None:
            end_like(status)
        return self.exit_code

    def stop(self, code, reason=None):
        """Kills the plugin and exits."""
        self.exit_code = code
        if reason:
            sys.stderr.write(f"paddock_dify: {reason}\n")
        self.child.kill()
        self.child.wait()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)

    # Host -> plugin

    def serve_host(self):
        try:
            for frame in self.host.frames():
                self.on_frame(frame)
        except (OSError, ValueError) as error:
            self.stop(1, f"connection to the host lost: {error}")
        self.stop(0)

    def on_frame(self, frame):
        try:
            message = loads(frame)
        except ValueError:
            self.host.send({"id": None, "error": {"code": -32700, "message": "parse error", "data": {"code": 202}}})
            return
        for item in message if isinstance(message, list) else [message]:
            if isinstance(item, dict):
                self.on_message(item)

    def on_message(self, message):
        method = message.get("method")
        if method is None:
            self.host.complete(message)  # the answer to a host call
            return
        request_id = message.get("id")
        params = message.get("params") if isinstance(message.get("params"), dict) else {}
        handler = self.methods.get(method)
        if handler is None:
            if request_id is not None:
                self.host.fail(request_id, 202, f"method '{method}' not found", rpc_code=-32601)
            return
        try:
            handler(request_id, params)
        except (AttributeError, TypeError, ValueError) as error:
            if request_id is not None:
                self.host.fail(request_id, 102, f"{method}: {error}")

    def initialize(self, request_id, params):
        self.settings = params.get("settings") or {}
        with self.lock:
            ready = self.last_heartbeat is not None
            if not ready:
                self.initializing.append(request_id)
        if ready:
            self.announce(request_id)

    def announce(self, request_id):
        self.host.respond(request_id, dict(self.declaration.announcement(), sdk=SDK))

    def tool_invoke(self, request_id, params):
        provider = self.declaration.tools.get(params.get("tool"))
        if provider is None:
            self.host.fail(request_id, 104, f"the plugin has no tool '{params.get('tool')}'")
            return
        context = scope(params)
        tenant = context.get("tenant")
        data = tool_request(params, provider, context.get("settings", self.settings), tenant)
        # `stream: false`: the caller takes no chunks, so none are sent (the answer has every message).
        self.start(Call(request_id, "tool", tenant, stream=params.get("stream") is not False), data)

    def credentials_validate(self, request_id, params):
        provider = self.declaration.tool_provider
        if not provider:
            self.host.respond(request_id, {"valid": True})
            return
        self.start(Call(request_id, "validate"), validate_request(provider, params.get("credentials") or {}))

    def endpoint_invoke(self, request_id, params):
        context = scope(params)
        data = endpoint_request(params, context.get("settings", self.settings))
        self.start(Call(request_id, "endpoint", context.get("tenant")), data)

    def start(self, call, data):
        session_id = uuid.uuid4().hex
        self.sessions[session_id] = call
        self.child.send({
            "session_id": session_id, "conversation_id": None, "message_id": None, "app_id": None,
            "endpoint_id": None, "context": None, "event": "request", "data": data,
        })

    def ping(self, request_id, params):
        """Answered only for a live plugin that beat lately: else the host restarts it."""
        beat = self.last_heartbeat
        if beat is not None and time.monotonic() - beat < HEARTBEAT_LIMIT and self.child.alive():
            self.host.respond(request_id, {})

    def shutdown(self, request_id, params):
        self.host.respond(request_id, {})
        self.stop(0)

    # Plugin -> host

    def on_line(self, line):
        if isinstance(line, Overlong):
            self.on_overlong(line.head)
            return
        if not line:
            return  # the SDK writes a blank line after each message
        messages, text = decode(line)
        if text:
            sys.stdout.write(text + "\n")  # the plugin's own print: the host logs it as stdout
            sys.stdout.flush()
        for message, raw in messages:
            try:
                self.on_event(message, raw)
            except (AttributeError, TypeError, ValueError) as error:
                self.log("warn", f"dropped a message of the plugin the bridge cannot read: {error}")

    def on_event(self, message, raw):
        event = message.get("event")
        data = message.get("data") if isinstance(message.get("data"), dict) else {}
        if event == "session":
            self.on_session(message.get("session_id"), data, raw)
        elif event == "heartbeat":
            self.on_heartbeat()
        elif event == "log":
            # Dify's are `logging` level names, which the host takes in lower case.
            self.log(str(data.get("level") or "info").lower(), str(data.get("message", "")))
        elif event == "error":
            call = self.sessions.get(message.get("session_id"))
            self.log("error", str(data.get("error") or json.dumps(data, ensure_ascii=False)), call)
        # No event: the manifest the plugin prints first.

    def on_heartbeat(self):
        with self.lock:
            self.last_heartbeat = time.monotonic()
            waiting, self.initializing = self.initializing, []
        for request_id in waiting:
            self.announce(request_id)

    def on_session(self, session_id, data, raw):
        call = self.sessions.get(session_id)
        kind = data.get("type")
        body = data.get("data") if isinstance(data.get("data"), dict) else {}
        if call is None:
            self.log("warn", f"the plugin wrote to session {session_id}, which it was not given")
            if kind == "invoke":
                self.backwards.refuse(session_id, body, f"unknown session {session_id}")
        elif kind == "stream":
            self.on_stream(call, body, raw)
        elif kind == "invoke":
            self.backwards.submit(session_id, call.tenant, body)
        elif kind == "error":
            call.error = call.error or body
        elif kind == "end":
            self.on_end(session_id, call)

    def on_stream(self, call, item, raw):
        """`raw`: the item's JSON as the plugin wrote it, when the line held just that."""
        if call.answered:
            return
        try:
            chunk = call.add(item, raw or json.dumps(item).encode("ascii"))
            if chunk is not None and call.stream:
                self.host.stream_chunk(call.id_json, chunk)
        except Refused as refusal:
            self.fail(call, 202, refusal.message)
        except (TypeError, ValueError) as error:
            self.fail(call, 202, f"the plugin sent a message the bridge cannot pass on: {error}")

    def on_end(self, session_id, call):
        self.sessions.pop(session_id, None)
        if call.answered:
            return
        call.answered = True
        if call.error is None:
            self.host.respond_json(call.id_json, call.answer())
            return
        code, message, details = coded(call.error)
        if call.kind == "validate" and code not in (301, 302):
            self.host.respond(call.id, {"valid": False, "message": str(call.error.get("message") or message)})
        else:
            self.host.fail(call.id, code, message, details)

    def on_overlong(self, head):
        session_id = session_of(head)
        call = self.sessions.get(session_id) if session_id else None
        self.log("warn", f"dropped a line of the plugin's stdout over {MAX_LINE} bytes", call)
        if call is not None and not call.answered:
            self.fail(call, 202, f"the plugin wrote a message over {MAX_LINE} bytes")

    def fail(self, call, code, message):
        """Answers a call before its session ends; the rest of the session is dropped."""
        call.answered = True
        self.host.fail(call.id, code, message)

    def log(self, level, message, call=None):
        params = {"level": level, "message": message}
        if call is not None:
            params["call"] = call.id
        self.host.notify("log", params)


def _ignore(request_id, params):
    pass


def main(argv):
    if len(argv) != 1:
        sys.stderr.write("usage: python3 -m paddock_dify ENTRYPOINT\n")
        return 2
    fd = os.environ.get("PADDOCK_RPC_FD")
    if fd is None:
        sys.stderr.write("paddock_dify: PADDOCK_RPC_FD is not set; plugins are started by Paddock\n")
        return 2
    try:
        declaration = Declaration(json.loads(os.environ.get("PADDOCK_DIFY") or "{}"))
    except ValueError:
        sys.stderr.write("paddock_dify: PADDOCK_DIFY is not JSON\n")
        return 2
    bridge = Bridge(Host(int(fd)), DifyProcess.start(argv[0]), declaration)
    return bridge.run()
