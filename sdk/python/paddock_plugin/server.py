"""Serves a plugin: imports its entry point, answers the host's calls."""

import importlib.util
import inspect
import json
import logging
import os
import sys
import threading
import traceback
from concurrent.futures import ThreadPoolExecutor

from .connection import Connection
from .context import Context
from .errors import PluginError
from .plugin import Plugin
from .request import Request, encode_response

SDK_VERSION = "paddock-python/0.1.0"

# The context of the call a handler thread is running, so that its `logging`
# records go to the host tied to that call.
_current = threading.local()


def coded(error):
    """The (code, message, details) of any exception: 301 for memory, 203 otherwise."""
    if isinstance(error, PluginError):
        return error.code, error.message, error.details
    if isinstance(error, MemoryError):
        return 301, "MemoryError: the plugin ran out of memory", {}
    if isinstance(error, OSError) and error.errno in (27, 28):  # EFBIG, ENOSPC
        return 302, f"{type(error).__name__}: {error}", {}
    text = "".join(traceback.format_exception(error))
    return 203, f"{type(error).__name__}: {error}", {"traceback": text[-8000:]}


class HostLogHandler(logging.Handler):
    """Sends the plugin's `logging` records to the host as `log` notifications,
    tied to the call (and the outside request) being handled on that thread."""

    def __init__(self, connection):
        super().__init__()
        self.connection = connection

    def emit(self, record):
        context = getattr(_current, "context", None)
        level, message = record.levelname.lower(), self.format(record)
        if context is not None:
            params = context.log_params(level, message)
        else:
            params = {"level": level, "message": message, "call": None, "fields": {}}
        try:
            self.connection.notify("log", params)
        except OSError:
            pass


class Server:
    def __init__(self, connection, entrypoint):
        self.connection = connection
        self.entrypoint = entrypoint
        self.plugin = None
        self.load_error = None
        self.settings = {}
        self.credentials = {}
        self.executor = None
        self.calls = {}
        self.calls_lock = threading.Lock()

    def load(self):
        """Imports the entry point; a failure is kept and reported at `initialize`."""
        try:
            path = os.path.abspath(self.entrypoint)
            sys.path.insert(0, os.path.dirname(path))
            spec = importlib.util.spec_from_file_location("__paddock_plugin__", path)
            if spec is None:
                raise PluginError(105, f"cannot load entry point {self.entrypoint}")
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            plugins = [value for value in vars(module).values() if isinstance(value, Plugin)]
            if not plugins:
                raise PluginError(101, f"{self.entrypoint} defines no Plugin() instance")
            self.plugin = plugins[0]
        except BaseException as error:  # noqa: BLE001 - everything is reported to the host
            if isinstance(error, (KeyboardInterrupt, SystemExit)):
                raise
            self.load_error = coded(error)
            sys.stderr.write(f"paddock_plugin: loading {self.entrypoint} failed: {self.load_error[1]}\n")

    def serve(self):
        for frame in self.connection.frames():
            try:
                message = json.loads(frame)
            except ValueError:
                self.connection.send({"id": None, "error": {"code": -32700, "message": "parse error", "data": {"code": 202}}})
                continue
            if "method" not in message:
                self.connection.complete(message)
                continue
            if self.handle(message) == "shutdown":
                return

    def handle(self, message):
        method = message["method"]
        request_id = message.get("id")
        params = message.get("params") or {}
        if method == "ping":
            self.connection.respond(request_id, {})
        elif method == "$/cancel":
            with self.calls_lock:
                context = self.calls.get(params.get("id"))
            if context is not None:
                context._cancelled.set()
        elif method == "initialize":
            self.initialize(request_id, params)
        elif method == "shutdown":
            self.connection.respond(request_id, {})
            return "shutdown"
        elif method in ("tool.invoke", "endpoint.invoke", "model.invoke", "credentials.validate"):
            if self.executor is None:
                self.connection.fail(request_id, 306, "the plugin is not initialized")
                return None
            # A call made for a tenant carries that tenant's settings and credentials.
            scope = params.get("context") if isinstance(params, dict) and isinstance(params.get("context"), dict) else {}
            outside = params.get("request_id") if isinstance(params, dict) else None
            context = Context(
                self.connection, request_id, scope.get("settings", self.settings), scope.get("credentials", self.credentials),
                tenant=scope.get("tenant"), request_id=outside if isinstance(outside, str) else None,
            )
            with self.calls_lock:
                self.calls[request_id] = context
            self.executor.submit(self.run, method, request_id, params, context)
        elif request_id is not None:
            self.connection.send({"id": request_id, "error": {"code": -32601, "message": f"method '{method}' not found"}})
        return None

    def initialize(self, request_id, params):
        if self.load_error is not None:
            code, message, details = self.load_error
            self.connection.fail(request_id, code, message, details)
            return
        self.settings = params.get("settings") or {}
        self.credentials = params.get("credentials") or {}
        workers = max(1, int(params.get("workers") or 1))
        self.executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="paddock-handler")
        answer = self.plugin.announcement()
        answer["sdk"] = SDK_VERSION
        self.connection.respond(request_id, answer)

    def run(self, method, request_id, params, context):
        _current.context = context
        try:
            result = self.dispatch(method, params, context)
            if inspect.isgenerator(result):
                result = self.drain(result, context)
            self.connection.respond(request_id, result)
        except BaseException as error:  # noqa: BLE001
            if isinstance(error, (KeyboardInterrupt, SystemExit)):
                raise
            code, message, details = coded(error)
            try:
                self.connection.fail(request_id, code, message, details)
            except (TypeError, ValueError, OSError):
                pass
        finally:
            _current.context = None
            with self.calls_lock:
                self.calls.pop(request_id, None)

    def drain(self, generator, context):
        """Sends each yielded chunk as it comes; the generator's return value is the result."""
        while True:
            context.check_cancelled()
            try:
                chunk = next(generator)
            except StopIteration as stop:
                return stop.value
            context.stream(chunk)

    def dispatch(self, method, params, context):
        plugin = self.plugin
        if method == "tool.invoke":
            handler = plugin.tools.get(params.get("tool"))
            if handler is None:
                raise PluginError(104, f"the plugin has no tool '{params.get('tool')}'")
            return handler(params.get("params") or {}, context)
        if method == "endpoint.invoke":
            key = (str(params.get("method", "GET")).upper(), params.get("path"))
            handler = plugin.endpoints.get(key)
            if handler is None:
                raise PluginError(104, f"the plugin has no endpoint {key[0]} {key[1]}")
            return encode_response(handler(Request(params), context))
        if method == "model.invoke":
            handler = plugin.models.get(params.get("model"))
            if handler is None:
                raise PluginError(104, f"the plugin has no model '{params.get('model')}'")
            return handler(params.get("messages") or [], params.get("params") or {}, context)
        validator = plugin.credentials_validator
        if validator is None:
            return {"valid": True}
        verdict = validator(params.get("credentials") or {}, context)
        if verdict is True or verdict is None:
            return {"valid": True}
        return {"valid": False, "message": str(verdict)}


def main(argv):
    if len(argv) != 1:
        sys.stderr.write("usage: python3 -m paddock_plugin ENTRYPOINT\n")
        return 2
    fd = os.environ.get("PADDOCK_RPC_FD")
    if fd is None:
        sys.stderr.write("paddock_plugin: PADDOCK_RPC_FD is not set; plugins are started by Paddock\n")
        return 2
    connection = Connection(int(fd))
    logging.basicConfig(level=logging.INFO, handlers=[HostLogHandler(connection)])
    server = Server(connection, argv[0])
    server.load()
    try:
        server.serve()
    except (OSError, ValueError) as error:
        sys.stderr.write(f"paddock_plugin: connection lost: {error}\n")
        return 1
    return 0 if server.load_error is None else 1
