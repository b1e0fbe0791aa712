"""JSON-RPC 2.0 over the inherited socket: newline-delimited frames.

One I/O thread reads frames and answers `ping` itself, so a plugin busy with
long calls still answers its heartbeat; handlers run on a thread pool.
"""

import json
import socket
import threading

MAX_FRAME = 16 * 1024 * 1024


class Connection:
    def __init__(self, fd):
        self.sock = socket.socket(fileno=fd)
        self.write_lock = threading.Lock()
        self.pending = {}
        self.pending_lock = threading.Lock()
        self.next_id = 1

    def send(self, message):
        message["jsonrpc"] = "2.0"
        data = json.dumps(message, separators=(",", ":"), ensure_ascii=False).encode("utf-8") + b"\n"
        with self.write_lock:
            self.sock.sendall(data)

    def notify(self, method, params):
        self.send({"method": method, "params": params})

    def respond(self, request_id, result):
        self.send({"id": request_id, "result": result})

    def fail(self, request_id, code, message, details=None, rpc_code=-32000):
        data = {"code": code}
        if details:
            data["details"] = details
        self.send({"id": request_id, "error": {"code": rpc_code, "message": message, "data": data}})

    def call(self, method, params, timeout=None):
        """Calls the host and waits for its answer (host calls: storage, tools, models)."""
        waiter = {"event": threading.Event()}
        with self.pending_lock:
            request_id = self.next_id
            self.next_id += 1
            self.pending[request_id] = waiter
        self.send({"id": request_id, "method": method, "params": params})
        if not waiter["event"].wait(timeout):
            with self.pending_lock:
                self.pending.pop(request_id, None)
            from .errors import PluginError
            raise PluginError(204, f"host call {method} timed out")
        if "error" in waiter:
            from .errors import PluginError
            error = waiter["error"]
            data = error.get("data") or {}
            raise PluginError(data.get("code", 203), error.get("message", "host call failed"), data.get("details"))
        return waiter["result"]

    def complete(self, message):
        """Hands a response from the host to the thread waiting for it."""
        with self.pending_lock:
            waiter = self.pending.pop(message.get("id"), None)
        if waiter is None:
            return
        if "error" in message:
            waiter["error"] = message["error"]
        else:
            waiter["result"] = message.get("result")
        waiter["event"].set()

    def frames(self):
        """Yields each frame as bytes until the host closes the socket."""
        buffer = b""
        while True:
            data = self.sock.recv(1 << 16)
            if not data:
                return
            buffer += data
            while True:
                newline = buffer.find(b"\n")
                if newline < 0:
                    if len(buffer) > MAX_FRAME:
                        raise ValueError("frame too large")
                    break
                frame, buffer = buffer[:newline], buffer[newline + 1 :]
                if frame.strip():
                    yield frame
