"""The Python SDK against a host played by this test over a real socketpair.

Run with each supported interpreter: python3 -m unittest discover sdk/python/tests
"""

import json
import os
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
import unittest

SDK = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

PLUGIN = textwrap.dedent(
    """
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
        self.assertEqual(result["tools"], ["boom", "count", "echo", "hog", "nap", "storage", "upstream"])
        self.assertEqual(result["endpoints"], [{"method": "GET", "path": "/hello"}])
        self.assertTrue(result["credentials"])
        self.assertTrue(result["sdk"].startswith("paddock-python/"))

    def test_tool_result_and_log(self):
        seen, answer = self.host.answer(self.host.call("tool.invoke", {"tool": "echo", "params": {"x": [1, "é"]}}))
        self.assertEqual(answer["result"], {"x": [1, "é"]})
        self.assertEqual(seen[0]["method"], "log")
        self.assertEqual(seen[0]["params"]["message"], "echoing")

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


if __name__ == "__main__":
    unittest.main()
