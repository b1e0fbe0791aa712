"""The Python SDK against a host played by this test over a real socketpair.

Run with each supported interpreter: python3 -m unittest discover sdk/python/tests
"""

import base64
import hashlib
import io
import json
import os
import socket
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import unittest

SDK = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if SDK not in sys.path:
    sys.path.insert(0, SDK)

from paddock_plugin import PluginError  # noqa: E402
from paddock_plugin.context import Apps, Storage  # noqa: E402

PLUGIN = textwrap.dedent(
    """
    import logging
    import time
    from paddock_plugin import Plugin, PluginError, UpstreamError

    plugin = Plugin()

    @plugin.tool("echo")
    def echo(params, context):
        context.log("echoing", size=len(params))
        return params

    @plugin.tool("count")
    def count(params, context):
        for i in range(params["n"]):
            yield i
        return {"done": params["n"]}

    @plugin.tool("upstream")
    def upstream(params, context):
        raise UpstreamError("the API said 503", {"status": 503})

    @plugin.tool("boom")
    def boom(params, context):
        return 1 / 0

    @plugin.tool("hog")
    def hog(params, context):
        raise MemoryError()

    @plugin.tool("nap")
    def nap(params, context):
        while True:
            context.check_cancelled()
            time.sleep(0.01)

    @plugin.tool("storage")
    def storage(params, context):
        return context.storage.get("k")

    @plugin.tool("trace")
    def trace(params, context):
        context.log("by context")
        logging.getLogger("plugin").warning("by logging")
        return {"request_id": context.request_id}

    @plugin.endpoint("GET", "/hello")
    def hello(request, context):
        return {"status": 201, "body": {"hi": request.params.get("name")}}

    @plugin.credentials
    def check(credentials, context):
        return True if credentials.get("key") == "ok" else "the key was refused"
    """
)


class Host:
    """Plays the host: starts the SDK on a socketpair, sends requests, reads frames."""

    def __init__(self, source):
        self.directory = tempfile.mkdtemp()
        with open(os.path.join(self.directory, "main.py"), "w") as file:
            file.write(source)
        ours, theirs = socket.socketpair()
        env = {"PADDOCK_RPC_FD": str(theirs.fileno()), "PYTHONPATH": SDK, "PATH": "/usr/bin:/bin"}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "paddock_plugin", "main.py"], cwd=self.directory, env=env,
            pass_fds=[theirs.fileno()], stderr=subprocess.PIPE,
        )
        theirs.close()
        self.socket = ours
        self.socket.settimeout(10)
        self.reader = ours.makefile("rb")
        self.next_id = 100

    def send(self, method, params=None, request_id=None):
        message = {"jsonrpc": "2.0", "method": method, "params": params or {}}
        if request_id is not None:
            message["id"] = request_id
        self.socket.sendall(json.dumps(message).encode() + b"\n")

    def call(self, method, params=None):
        self.next_id += 1
        self.send(method, params, self.next_id)
        return self.next_id

    def read(self):
        line = self.reader.readline()
        if not line:
            raise EOFError("the plugin closed the socket")
        return json.loads(line)

    def answer(self, request_id):
        """Frames up to the answer to `request_id`, and the answer."""
        seen = []
        while True:
            message = self.read()
            if message.get("id") == request_id and "method" not in message:
                return seen, message
            seen.append(message)

    def close(self):
        self.reader.close()
        self.socket.close()
        self.process.wait(timeout=10)
        self.process.stderr.close()


class SDKTests(unittest.TestCase):
    def setUp(self):
        self.host = Host(PLUGIN)
        _, self.announcement = self.host.answer(self.host.call("initialize", {"settings": {"a": 1}, "workers": 2}))

    def tearDown(self):
        self.host.close()

    def test_announces_what_it_implements(self):
        result = self.announcement["result"]
        self.assertEqual(result["tools"], ["boom", "count", "echo", "hog", "nap", "storage", "trace", "upstream"])
        self.assertEqual(result["endpoints"], [{"method": "GET", "path": "/hello"}])
        self.assertTrue(result["credentials"])
        self.assertTrue(result["sdk"].startswith("paddock-python/"))

    def test_tool_result_and_log(self):
        seen, answer = self.host.answer(self.host.call("tool.invoke", {"tool": "echo", "params": {"x": [1, "é"]}}))
        self.assertEqual(answer["result"], {"x": [1, "é"]})
        self.assertEqual(seen[0]["method"], "log")
        self.assertEqual(seen[0]["params"]["message"], "echoing")

    def test_log_lines_carry_the_call_and_the_request_it_serves(self):
        call = self.host.call("tool.invoke", {"tool": "trace", "params": {}, "request_id": "4f9c-req.1"})
        seen, answer = self.host.answer(call)
        self.assertEqual(answer["result"], {"request_id": "4f9c-req.1"})
        logs = [(m["params"]["message"], m["params"]["level"], m["params"]["call"], m["params"].get("request_id")) for m in seen]
        self.assertEqual(logs, [
            ("by context", "info", call, "4f9c-req.1"), ("WARNING:plugin:by logging", "warning", call, "4f9c-req.1"),
        ])
        # Without one, the lines carry the call alone.
        call = self.host.call("tool.invoke", {"tool": "trace", "params": {}})
        seen, answer = self.host.answer(call)
        self.assertEqual(answer["result"], {"request_id": None})
        self.assertEqual([(m["params"]["call"], "request_id" in m["params"]) for m in seen], [(call, False), (call, False)])

    def test_streaming_by_yield(self):
        request = self.host.call("tool.invoke", {"tool": "count", "params": {"n": 3}})
        seen, answer = self.host.answer(request)
        self.assertEqual([m["params"]["chunk"] for m in seen], [0, 1, 2])
        self.assertTrue(all(m["params"]["id"] == request for m in seen))
        self.assertEqual(answer["result"], {"done": 3})

    def test_coded_errors(self):
        _, upstream = self.host.answer(self.host.call("tool.invoke", {"tool": "upstream", "params": {}}))
        self.assertEqual(upstream["error"]["data"]["code"], 201)
        self.assertEqual(upstream["error"]["data"]["details"], {"status": "503"})
        _, boom = self.host.answer(self.host.call("tool.invoke", {"tool": "boom", "params": {}}))
        self.assertEqual(boom["error"]["data"]["code"], 203)
        self.assertIn("ZeroDivisionError", boom["error"]["data"]["details"]["traceback"])
        _, hog = self.host.answer(self.host.call("tool.invoke", {"tool": "hog", "params": {}}))
        self.assertEqual(hog["error"]["data"]["code"], 301)

    def test_ping_is_answered_while_handlers_are_busy(self):
        napping = self.host.call("tool.invoke", {"tool": "nap", "params": {}})
        self.host.call("tool.invoke", {"tool": "nap", "params": {}})
        started = time.monotonic()
        _, pong = self.host.answer(self.host.call("ping"))
        self.assertEqual(pong["result"], {})
        self.assertLess(time.monotonic() - started, 1)
        self.host.send("$/cancel", {"id": napping})
        _, cancelled = self.host.answer(napping)
        self.assertEqual(cancelled["error"]["data"]["code"], 204)

    def test_host_calls_surface_the_hosts_error(self):
        request = self.host.call("tool.invoke", {"tool": "storage", "params": {}})
        host_call = self.host.read()
        self.assertEqual(host_call["method"], "storage.get")
        self.host.socket.sendall(json.dumps({"jsonrpc": "2.0", "id": host_call["id"], "error": {
            "code": -32000, "message": "storage.get needs permission.storage", "data": {"code": 104}}}).encode() + b"\n")
        _, answer = self.host.answer(request)
        self.assertEqual(answer["error"]["data"]["code"], 104)

    def test_endpoint_and_credentials(self):
        _, response = self.host.answer(self.host.call("endpoint.invoke", {
            "method": "GET", "path": "/hello", "query": {}, "headers": {}, "body": "", "params": {"name": "Ada"}}))
        self.assertEqual(response["result"]["status"], 201)
        import base64
        self.assertEqual(json.loads(base64.b64decode(response["result"]["body"])), {"hi": "Ada"})
        _, bad = self.host.answer(self.host.call("credentials.validate", {"credentials": {"key": "no"}}))
        self.assertEqual(bad["result"], {"valid": False, "message": "the key was refused"})

    def test_shutdown_ends_the_process(self):
        _, answer = self.host.answer(self.host.call("shutdown"))
        self.assertEqual(answer["result"], {})
        self.assertEqual(self.host.process.wait(timeout=5), 0)


class LoadFailureTests(unittest.TestCase):
    def test_memory_error_at_import_is_301(self):
        host = Host("raise MemoryError()\n")
        _, answer = host.answer(host.call("initialize", {}))
        self.assertEqual(answer["error"]["data"]["code"], 301)
        host.close()

    def test_exception_at_import_is_203_with_traceback(self):
        host = Host("import json\njson.loads('{')\n")
        _, answer = host.answer(host.call("initialize", {}))
        self.assertEqual(answer["error"]["data"]["code"], 203)
        self.assertIn("JSONDecodeError", answer["error"]["data"]["details"]["traceback"])
        host.close()


class FakeHost:
    """Plays the host's storage and app services in process, as docs/protocol.md
    specifies them; stands in for the Connection (`call` answers or raises)."""

    def __init__(self, quota=1 << 20):
        self.quota = quota
        self.values = {}
        self.blobs = {}
        self.uploads = {}
        self.next_upload = 1
        self.calls = []
        self.notifications = []
        self.fail = None  # fail(method, params) may raise to interrupt a call
        self.lock = threading.Lock()

    def call(self, method, params, timeout=None):
        with self.lock:
            self.calls.append((method, json.loads(json.dumps(params))))
            if self.fail is not None:
                self.fail(method, params)
            handler = getattr(self, method.replace(".", "_"), None)
            if handler is None:
                raise PluginError(202, f"method '{method}' not found")
            return handler(params)

    def notify(self, method, params):
        self.notifications.append((method, params))

    def methods(self):
        return [method for method, _ in self.calls]

    def usage_bytes(self):
        used = sum(len(k.encode()) + len(v) + 32 for k, v in self.values.items())
        used += sum(len(name.encode()) + len(blob["data"]) + 32 for name, blob in self.blobs.items())
        return used + sum(len(u["name"].encode()) + u["size"] + 32 for u in self.uploads.values())

    def charge(self, change):
        before = self.usage_bytes()
        change()
        if self.usage_bytes() > self.quota and self.usage_bytes() > before:
            return False
        return True

    def storage_get(self, params):
        value = self.values.get(params["key"])
        return {"value": None if value is None else base64.b64encode(value).decode()}

    def storage_set(self, params):
        key, value = params["key"], base64.b64decode(params["value"])
        current = self.values.get(key)
        if params.get("if_absent") and current is not None:
            return {"stored": False, "usage": self.usage_bytes()}
        if "expected" in params and current != base64.b64decode(params["expected"]):
            return {"stored": False, "usage": self.usage_bytes()}
        saved = dict(self.values)
        if not self.charge(lambda: self.values.__setitem__(key, value)):
            self.values = saved
            raise PluginError(205, "storage quota exceeded", {"quota": self.quota})
        return {"stored": True, "usage": self.usage_bytes()}

    def storage_delete(self, params):
        deleted = self.values.pop(params["key"], None) is not None
        return {"deleted": deleted, "usage": self.usage_bytes()}

    def storage_list(self, params):
        prefix, cursor, limit = params.get("prefix", ""), params.get("cursor"), params.get("limit", 100)
        keys = sorted((k for k in self.values if k.startswith(prefix)), key=lambda k: k.encode())
        if cursor is not None:
            keys = [k for k in keys if k.encode() > cursor.encode()]
        page = keys[:limit]
        items = []
        for key in page:
            item = {"key": key, "size": len(self.values[key])}
            if params.get("values"):
                item["value"] = base64.b64encode(self.values[key]).decode()
            items.append(item)
        return {"items": items, "cursor": page[-1] if len(keys) > limit else None}

    def storage_usage(self, params):
        return {"bytes": self.usage_bytes(), "quota": self.quota}

    def storage_blob_begin(self, params):
        algorithm = "md5" if "md5" in params else "sha256"
        for upload_id, upload in self.uploads.items():
            if (upload["name"], upload["size"], upload["checksum"]) == (params["name"], params["size"], params[algorithm]):
                return {"upload": upload_id, "received": len(upload["data"])}
        upload = {"name": params["name"], "size": params["size"], "algorithm": algorithm,
                  "checksum": params[algorithm], "data": bytearray()}
        upload_id = self.next_upload
        self.next_upload += 1
        if not self.charge(lambda: self.uploads.__setitem__(upload_id, upload)):
            del self.uploads[upload_id]
            raise PluginError(205, "storage quota exceeded")
        return {"upload": upload_id, "received": 0}

    def storage_blob_append(self, params):
        upload = self.uploads[params["upload"]]
        data, offset, received = base64.b64decode(params["data"]), params["offset"], len(upload["data"])
        if offset < received and offset + len(data) <= received:
            return {"received": received}
        if offset != received:
            raise PluginError(102, "wrong offset", {"expected_offset": received})
        upload["data"] += data
        return {"received": len(upload["data"])}

    def storage_blob_commit(self, params):
        upload = self.uploads.pop(params["upload"])
        if hashlib.new(upload["algorithm"], upload["data"]).hexdigest() != upload["checksum"]:
            raise PluginError(202, "checksum mismatch")
        self.blobs[upload["name"]] = {"data": bytes(upload["data"])}
        return {"name": upload["name"], "size": upload["size"], upload["algorithm"]: upload["checksum"]}

    def storage_blob_get(self, params):
        blob = self.blobs.get(params["name"])
        if blob is None:
            return {"data": None}
        offset, length = params.get("offset", 0), params.get("length", 4 << 20)
        piece = blob["data"][offset : offset + length]
        return {"data": base64.b64encode(piece).decode(), "size": len(blob["data"])}

    def storage_blob_delete(self, params):
        deleted = self.blobs.pop(params["name"], None) is not None
        return {"deleted": deleted, "usage": self.usage_bytes()}

    APP = {"id": "weather-forecast", "type": "extension", "version": "1.0.0", "label": "Weather",
           "description": "Real-time weather", "state": "active"}

    def app_list(self, params):
        return [dict(self.APP)]

    def app_get(self, params):
        if params["id"] != self.APP["id"]:
            raise PluginError(306, f"no app {params['id']}")
        return dict(self.APP, tools=[], models=[], endpoints=[{"method": "GET", "path": "/weather"}])

    def app_invoke(self, params):
        body = base64.b64decode(params.get("body", ""))
        echoed = {"method": params["method"], "path": params["path"], "query": params.get("query", {}),
                  "body": body.decode()}
        return {"status": 200, "headers": {"content-type": "application/json"},
                "body": base64.b64encode(json.dumps(echoed).encode()).decode()}


class StorageTests(unittest.TestCase):
    def setUp(self):
        self.host = FakeHost()
        self.storage = Storage(self.host)

    def test_values_travel_in_base64_and_come_back_as_bytes(self):
        self.assertTrue(self.storage.set("k", b"\x00\xffraw"))
        self.assertEqual(self.host.calls[-1], ("storage.set", {"key": "k", "value": base64.b64encode(b"\x00\xffraw").decode()}))
        self.assertEqual(self.storage.get("k"), b"\x00\xffraw")
        self.storage.set("text", "héllo")
        self.assertEqual(self.host.values["text"], "héllo".encode())
        self.assertEqual(self.storage.get_text("text"), "héllo")
        self.assertIsNone(self.storage.get("missing"))
        self.assertEqual(self.storage.get_text("missing", "none"), "none")
        self.assertEqual(self.storage.get_json("missing", {}), {})
        with self.assertRaises(TypeError):
            self.storage.set("k", 42)

    def test_json_helpers(self):
        self.storage.set_json("doc", {"b": [1, 2], "a": "é"})
        self.assertEqual(self.host.values["doc"], '{"a":"é","b":[1,2]}'.encode())
        self.assertEqual(self.storage.get_json("doc"), {"a": "é", "b": [1, 2]})
        self.assertFalse(self.storage.set_json("doc", {"a": 2}, expected={"a": 1}))
        self.assertTrue(self.storage.set_json("doc", {"a": 2}, expected={"b": [1, 2], "a": "é"}))
        self.assertTrue(self.storage.set_json("doc", {"a": 3}, expected=self.storage.get("doc")))
        self.assertEqual(self.storage.get_json("doc"), {"a": 3})

    def test_if_absent_and_compare_and_set(self):
        self.assertTrue(self.storage.set("counter", "1", if_absent=True))
        self.assertFalse(self.storage.set("counter", "9", if_absent=True))
        self.assertEqual(self.host.calls[-1][1]["if_absent"], True)
        self.assertFalse(self.storage.set("counter", "2", expected="5"))
        self.assertEqual(self.host.calls[-1][1]["expected"], base64.b64encode(b"5").decode())
        self.assertTrue(self.storage.set("counter", "2", expected=b"1"))
        self.assertEqual(self.storage.get("counter"), b"2")
        self.assertNotIn("if_absent", self.host.calls[-1][1])

    def test_delete_and_usage(self):
        self.storage.set("abc", b"12345")
        self.assertEqual(self.storage.usage(), {"bytes": 3 + 5 + 32, "quota": 1 << 20})
        self.assertTrue(self.storage.delete("abc"))
        self.assertFalse(self.storage.delete("abc"))
        self.assertEqual(self.storage.usage()["bytes"], 0)

    def test_quota_exceeded_is_205(self):
        host = FakeHost(quota=100)
        storage = Storage(host)
        storage.set("a", b"x" * 50)
        with self.assertRaises(PluginError) as raised:
            storage.set("b", b"y" * 50)
        self.assertEqual(raised.exception.code, 205)
        self.assertIsNone(storage.get("b"))
        self.assertTrue(storage.set("a", b"x"))  # shrinking works

    def test_list_pages_and_decodes_values(self):
        for name in ["note/3", "note/1", "note/2", "other"]:
            self.storage.set(name, name.upper())
        page = self.storage.list("note/", limit=2, values=True)
        self.assertEqual(page["items"], [{"key": "note/1", "size": 6, "value": b"NOTE/1"},
                                         {"key": "note/2", "size": 6, "value": b"NOTE/2"}])
        self.assertEqual(page["cursor"], "note/2")
        self.assertEqual(self.host.calls[-1][1], {"prefix": "note/", "limit": 2, "values": True})
        last = self.storage.list("note/", cursor=page["cursor"], limit=2)
        self.assertEqual(last, {"items": [{"key": "note/3", "size": 6}], "cursor": None})
        self.assertEqual(self.host.calls[-1][1], {"prefix": "note/", "limit": 2, "cursor": "note/2"})

    def test_keys_walks_every_page(self):
        names = [f"k/{i:03d}" for i in range(25)]
        for name in names:
            self.storage.set(name, b"")
        self.storage.set("z", b"")
        self.host.calls.clear()
        self.assertEqual(list(self.storage.keys("k/", page_size=10)), names)
        self.assertEqual(self.host.methods(), ["storage.list"] * 3)
        self.assertEqual(list(self.storage.keys("nothing")), [])

    def test_blob_round_trip_in_chunks(self):
        data = bytes(range(256)) * 40  # 10240 bytes
        committed = self.storage.put_blob("pic", data, chunk_size=4096)
        self.assertEqual(committed, {"name": "pic", "size": len(data), "md5": hashlib.md5(data).hexdigest()})
        self.assertEqual(self.host.calls[0], ("storage.blob.begin", {"name": "pic", "size": len(data), "md5": hashlib.md5(data).hexdigest()}))
        appends = [params["offset"] for method, params in self.host.calls if method == "storage.blob.append"]
        self.assertEqual(appends, [0, 4096, 8192])
        self.storage.PIECE = 3000
        self.host.calls.clear()
        self.assertEqual(self.storage.get_blob("pic"), data)
        self.assertEqual([params["offset"] for _, params in self.host.calls], [0, 3000, 6000, 9000])
        self.assertTrue(all(params["length"] == 3000 for _, params in self.host.calls))
        self.assertIsNone(self.storage.get_blob("nothing"))
        self.assertTrue(self.storage.delete_blob("pic"))
        self.assertFalse(self.storage.delete_blob("pic"))
        self.assertIsNone(self.storage.get_blob("pic"))

    def test_blob_from_a_file_with_sha256_and_an_empty_blob(self):
        data = b"file contents " * 100
        source = io.BytesIO(b"HEADER" + data)
        source.seek(6)  # uploads from the current position
        committed = self.storage.put_blob("f", source, chunk_size=500, algorithm="sha256")
        self.assertEqual(committed["sha256"], hashlib.sha256(data).hexdigest())
        self.assertEqual(self.storage.get_blob("f"), data)
        self.assertEqual(self.storage.put_blob("empty", b"")["size"], 0)
        self.assertEqual(self.storage.get_blob("empty"), b"")
        with self.assertRaises(ValueError):
            self.storage.put_blob("x", b"", algorithm="crc32")

    def test_interrupted_upload_resumes_where_the_host_stands(self):
        data = os.urandom(10000)
        appended = []

        def drop_after_two(method, params):
            if method == "storage.blob.append":
                appended.append(params["offset"])
                if len(appended) == 3:
                    raise PluginError(204, "host call storage.blob.append timed out")

        self.host.fail = drop_after_two
        with self.assertRaises(PluginError):
            self.storage.put_blob("big", data, chunk_size=2000)
        self.host.fail = None
        self.host.calls.clear()
        self.storage.put_blob("big", data, chunk_size=2000)
        begin = self.host.calls[0]
        self.assertEqual(begin[0], "storage.blob.begin")
        offsets = [params["offset"] for method, params in self.host.calls if method == "storage.blob.append"]
        self.assertEqual(offsets, [4000, 6000, 8000])
        self.assertEqual(self.storage.get_blob("big"), data)

    def test_append_follows_the_hosts_expected_offset(self):
        data = b"a" * 3000
        moved = []

        def someone_else_appended(method, params):
            if method == "storage.blob.append" and not moved:
                moved.append(True)
                self.host.uploads[params["upload"]]["data"] += data[:1000]

        self.host.fail = someone_else_appended
        self.storage.put_blob("shared", data, chunk_size=1500)
        offsets = [params["offset"] for method, params in self.host.calls if method == "storage.blob.append"]
        self.assertEqual(offsets, [0, 1000, 2500])
        self.assertEqual(self.storage.get_blob("shared"), data)

    def test_blob_quota_is_205(self):
        storage = Storage(FakeHost(quota=1000))
        with self.assertRaises(PluginError) as raised:
            storage.put_blob("huge", b"x" * 2000)
        self.assertEqual(raised.exception.code, 205)


class AppsTests(unittest.TestCase):
    def test_list_get_and_invoke(self):
        host = FakeHost()
        apps = Apps(host)
        self.assertEqual(apps.list()[0]["id"], "weather-forecast")
        self.assertEqual(apps.get("weather-forecast")["endpoints"], [{"method": "GET", "path": "/weather"}])
        with self.assertRaises(PluginError) as raised:
            apps.get("nope")
        self.assertEqual(raised.exception.code, 306)
        response = apps.invoke("weather-forecast", "post", "/weather", query={"city": "Paris", "days": 2}, body="{}")
        self.assertEqual(host.calls[-1], ("app.invoke", {
            "id": "weather-forecast", "method": "POST", "path": "/weather", "query": {"city": "Paris", "days": "2"},
            "body": base64.b64encode(b"{}").decode()}))
        self.assertEqual(response["status"], 200)
        self.assertIsInstance(response["body"], bytes)
        self.assertEqual(json.loads(response["body"])["body"], "{}")
        apps.invoke("weather-forecast", "GET", "/weather")
        self.assertEqual(host.calls[-1][1], {"id": "weather-forecast", "method": "GET", "path": "/weather"})


STORAGE_PLUGIN = textwrap.dedent(
    """
    from paddock_plugin import Plugin

    plugin = Plugin()

    @plugin.tool("remember")
    def remember(params, context):
        stored = context.storage.set(params["key"], params["value"])
        return {"stored": stored, "value": context.storage.get_text(params["key"])}
    """
)


class HostCallsOverTheWireTests(unittest.TestCase):
    """Storage calls from a running plugin: base64 on the wire, host errors keep their code."""

    def setUp(self):
        self.host = Host(STORAGE_PLUGIN)
        self.host.answer(self.host.call("initialize", {"workers": 1}))

    def tearDown(self):
        self.host.close()

    def reply(self, request, result=None, error=None):
        message = {"jsonrpc": "2.0", "id": request["id"]}
        message.update({"error": error} if error else {"result": result})
        self.host.socket.sendall(json.dumps(message).encode() + b"\n")

    def test_set_and_get_in_base64(self):
        request = self.host.call("tool.invoke", {"tool": "remember", "params": {"key": "k", "value": "é"}})
        set_call = self.host.read()
        self.assertEqual(set_call["method"], "storage.set")
        self.assertEqual(set_call["params"], {"key": "k", "value": base64.b64encode("é".encode()).decode()})
        self.reply(set_call, {"stored": True, "usage": 35})
        get_call = self.host.read()
        self.assertEqual(get_call["params"], {"key": "k"})
        self.reply(get_call, {"value": set_call["params"]["value"]})
        _, answer = self.host.answer(request)
        self.assertEqual(answer["result"], {"stored": True, "value": "é"})

    def test_quota_error_reaches_the_caller_as_205(self):
        request = self.host.call("tool.invoke", {"tool": "remember", "params": {"key": "k", "value": "v"}})
        set_call = self.host.read()
        self.reply(set_call, error={"code": -32000, "message": "storage quota exceeded (16000 bytes)",
                                    "data": {"code": 205, "details": {"quota": "16000", "usage": "15990"}}})
        _, answer = self.host.answer(request)
        self.assertEqual(answer["error"]["data"], {"code": 205, "details": {"quota": "16000", "usage": "15990"}})
        self.assertEqual(answer["error"]["message"], "storage quota exceeded (16000 bytes)")


if __name__ == "__main__":
    unittest.main()
