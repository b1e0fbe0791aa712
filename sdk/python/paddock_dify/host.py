"""The connection to the host: paddock_plugin's, plus frames built around
JSON the plugin already wrote, and held frames sent in one write."""

import json
import threading

from paddock_plugin.connection import Connection

# One encoder for every frame: json.dumps with options builds a new one each time.
_encode = json.JSONEncoder(separators=(",", ":")).encode


class Host(Connection):
    def __init__(self, fd):
        super().__init__(fd)
        self._thread = threading.local()

    def send(self, message):
        message["jsonrpc"] = "2.0"
        self.write(_encode(message).encode("ascii") + b"\n")

    def write(self, frame):
        held = getattr(self._thread, "held", None)
        if held is not None:
            held.append(frame)
            return
        with self.write_lock:
            self.sock.sendall(frame)

    def hold(self):
        """Keeps this thread's frames until `release`: what one read of the
        plugin brought goes to the host in one write."""
        self._thread.held = []

    def release(self):
        held, self._thread.held = self._thread.held, None
        if held:
            self.write(b"".join(held))

    def stream_chunk(self, id_json, chunk_json):
        """A `stream.chunk` of the call `id_json` (both arguments are JSON bytes)."""
        self.write(b'{"jsonrpc":"2.0","method":"stream.chunk","params":{"id":%b,"chunk":%b}}\n' % (id_json, chunk_json))

    def respond_json(self, id_json, result_json):
        self.write(b'{"jsonrpc":"2.0","id":%b,"result":%b}\n' % (id_json, result_json))
