"""paddock_dify against a host played by this test, running a tiny unmodified Dify plugin.

Needs the Dify SDK (dify_plugin) in the running interpreter; skipped without it.
"""

import base64
import importlib.util
import json
import os
import queue
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import threading
import unittest

SDK = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

FILES = {
    "main.py": """
        from dify_plugin import DifyPluginEnv, Plugin

        plugin = Plugin(DifyPluginEnv())

        if __name__ == "__main__":
            plugin.run()
    """,
    "manifest.yaml": """
        version: 0.0.1
        type: plugin
        author: paddock
        name: mini
        label: {en_US: Mini}
        description: {en_US: Mini}
        icon: icon.svg
        resource:
          memory: 268435456
          permission:
            tool: {enabled: true}
            endpoint: {enabled: true}
            storage: {enabled: true, size: 1048576}
        plugins:
          tools: [provider/mini.yaml]
          endpoints: [group/mini.yaml]
        meta:
          version: 0.0.1
          arch: [amd64, arm64]
          runner: {language: python, version: "3.12", entrypoint: main}
        created_at: 2025-01-01T00:00:00Z
    """,
    "_assets/icon.svg": '<svg xmlns="http://www.w3.org/2000/svg"/>',
    "provider/mini.yaml": """
        identity: {author: paddock, name: mini, label: {en_US: Mini}, description: {en_US: Mini}, icon: icon.svg}
        credentials_for_provider:
          key: {type: secret-input, required: false, label: {en_US: Key}}
        tools: [tools/run.yaml]
        extra: {python: {source: provider/mini.py}}
    """,
    "provider/mini.py": """
        from dify_plugin import ToolProvider
        from dify_plugin.errors.tool import ToolProviderCredentialValidationError

        class Mini(ToolProvider):
            def _validate_credentials(self, credentials):
                if credentials.get("key") != "ok":
                    raise ToolProviderCredentialValidationError("the key was refused")
    """,
    "tools/run.yaml": """
        identity: {name: run, author: paddock, label: {en_US: run}}
        description: {human: {en_US: run}, llm: run}
        parameters:
          - {name: what, type: string, required: true, form: llm, label: {en_US: what}, human_description: {en_US: what}}
        extra: {python: {source: tools/run.py}}
    """,
    "tools/run.py": """
        from dify_plugin import Tool
        from dify_plugin.entities.tool import ToolProviderType

        class Run(Tool):
            def _invoke(self, tool_parameters):
                what = tool_parameters["what"]
                if what == "show":
                    yield self.create_text_message("hi " + self.runtime.credentials.get("greeting", "?"))
                    yield self.create_json_message({"n": 1})
                    yield self.create_blob_message(bytes(range(256)) * 100, meta={"mime_type": "image/png", "filename": "a.png"})
                elif what == "store":
                    storage = self.session.storage
                    storage.set("k", b"v")
                    found = [storage.exist("k"), storage.get("k").decode()]
                    storage.delete("k")
                    for attempt in (lambda: storage.get("k"), lambda: storage.set("full", b"x")):
                        try:
                            attempt()
                        except Exception as error:
                            found.append(str(error))
                    yield self.create_json_message({"found": found})
                elif what == "relay":
                    yield from self.session.tool.invoke(ToolProviderType.BUILT_IN, "other", "echo", {"a": 1})
                elif what == "relay_by_plugin_id":
                    yield from self.session.tool.invoke(ToolProviderType.BUILT_IN, "langgenius/other/other", "echo", {"a": 2})
                elif what == "memory":
                    raise MemoryError()
                else:
                    raise ValueError("the input was refused")
    """,
    "group/mini.yaml": """
        settings:
          - {name: greeting, type: text-input, required: false, label: {en_US: Greeting}}
        endpoints: [endpoints/echo.yaml]
    """,
    "endpoints/echo.yaml": """
        path: "/echo/<name>"
        method: "POST"
        extra: {python: {source: endpoints/echo.py}}
    """,
    "endpoints/echo.py": """
        import json
        from dify_plugin import Endpoint
        from werkzeug import Response

        class Echo(Endpoint):
            def _invoke(self, r, values, settings):
                body = {"name": values["name"], "q": r.args.get("q"), "body": r.get_data(as_text=True), "greeting": settings.get("greeting")}
                return Response(json.dumps(body), status=201, content_type="application/json")
    """,
}

DECLARED = {"tools": {"run": "mini"}, "endpoints": [{"method": "POST", "path": "/echo/<name>"}], "tool_provider": "mini"}


# A plugin that speaks Dify's stdio protocol itself (no SDK) and misbehaves
# as an attacker's would, then answers: what the bridge must survive.
HOSTILE = """
import json, sys

def write(message):
    sys.stdout.write(json.dumps(message) + "\\n\\n")
    sys.stdout.flush()

sys.stdout.write("a line that is not JSON\\n")
write({"name": "hostile"})
write({"event": "heartbeat", "session_id": None, "data": {}})
for line in sys.stdin:
    request = json.loads(line)
    if request.get("event") != "request":
        continue
    session, what = request["session_id"], request["data"]["tool_parameters"]["what"]
    if what == "overlong":
        # One line past the bridge's 32 MiB limit, naming this session.
        sys.stdout.write('{"event":"session","session_id":"%s","data":{"type":"stream","data":{"x":"' % session)
        sys.stdout.write("x" * (33 << 20))
        sys.stdout.write('"}}}\\n')
        sys.stdout.flush()
        continue
    sys.stdout.write("garbage {\\n")
    write({"event": "session", "session_id": "f" * 32, "data": {"type": "stream", "data": {"type": "text", "message": {"text": "stolen"}}}})
    write({"event": "session", "session_id": "f" * 32, "data": {"type": "end", "data": {}}})
    write({"event": "session", "session_id": session, "data": {"type": "invoke", "data": {"type": "weird", "backwards_request_id": "b1", "request": {}}}})
    frames = []
    while not frames or frames[-1]["data"]["event"] != "end":
        frame = json.loads(sys.stdin.readline())
        if frame.get("event") == "backwards_response":
            frames.append(frame)
    answer = frames[0]["data"]
    write({"event": "session", "session_id": session, "data": {"type": "stream", "data": {"type": "text", "message": {"text": answer["event"] + ": " + answer["message"]}, "meta": None}}})
    write({"event": "session", "session_id": session, "data": {"type": "end", "data": {}}})
"""


class Host:
    """Starts the bridge on a socketpair, sends requests, answers its host calls."""

    def __init__(self, directory, entrypoint="main"):
        ours, theirs = socket.socketpair()
        env = dict(os.environ, PADDOCK_RPC_FD=str(theirs.fileno()), PYTHONPATH=SDK, PADDOCK_DIFY=json.dumps(DECLARED))
        self.process = subprocess.Popen(
            [sys.executable, "-m", "paddock_dify", entrypoint], cwd=directory, env=env,
            pass_fds=[theirs.fileno()], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        theirs.close()
        self.socket = ours
        self.lock = threading.Lock()
        self.next_id = 0
        self.answers = {}
        self.notifications = []
        self.host_calls = []
        self.storage = {}
        threading.Thread(target=self._read, daemon=True).start()

    def _send(self, message):
        with self.lock:
            self.socket.sendall(json.dumps(dict(message, jsonrpc="2.0")).encode() + b"\n")

    def call(self, method, params=None, timeout=30):
        with self.lock:
            self.next_id += 1
            request_id = self.next_id
            waiter = self.answers[request_id] = queue.Queue()
        self._send({"id": request_id, "method": method, "params": params or {}})
        return waiter.get(timeout=timeout)

    def _read(self):
        for line in self.socket.makefile("rb"):
            message = json.loads(line)
            if "method" not in message:
                self.answers[message["id"]].put(message)
            elif "id" in message:
                self.host_calls.append(message)
                self._send(dict(self.serve(message["method"], message["params"]), id=message["id"]))
            else:
                self.notifications.append(message)

    def serve(self, method, params):
        key = params.get("key")
        if method == "storage.set" and key == "full":
            return {"error": {"code": -32000, "message": "storage quota exceeded", "data": {"code": 205}}}
        if method == "storage.set":
            self.storage[key] = base64.b64decode(params["value"])
            return {"result": {"stored": True, "usage": 1}}
        if method == "storage.get":
            value = self.storage.get(key)
            return {"result": {"value": None if value is None else base64.b64encode(value).decode()}}
        if method == "storage.delete":
            return {"result": {"deleted": self.storage.pop(key, None) is not None, "usage": 0}}
        return {"error": {"code": -32000, "message": f"{method} needs a permission", "data": {"code": 104}}}

    def close(self):
        self.process.kill()
        self.process.wait()
        self.socket.close()


@unittest.skipIf(importlib.util.find_spec("dify_plugin") is None, "the Dify SDK (dify_plugin) is not installed")
class DifyBridgeTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.directory = tempfile.mkdtemp()
        for path, text in FILES.items():
            os.makedirs(os.path.dirname(os.path.join(cls.directory, path)), exist_ok=True)
            with open(os.path.join(cls.directory, path), "w") as file:
                file.write(textwrap.dedent(text).lstrip())
        cls.host = Host(cls.directory)
        cls.announced = cls.host.call("initialize", {"settings": {"greeting": "there"}, "workers": 2})

    @classmethod
    def tearDownClass(cls):
        cls.host.close()
        shutil.rmtree(cls.directory, ignore_errors=True)

    def invoke(self, what, **params):
        return self.host.call("tool.invoke", {"tool": "run", "params": {"what": what}, **params})

    def test_initialize_announces_what_the_plugin_declares(self):
        self.assertEqual(self.announced["result"], {
            "sdk": self.announced["result"]["sdk"], "tools": ["run"],
            "endpoints": [{"method": "POST", "path": "/echo/<name>"}], "models": [], "credentials": True,
        })
        self.assertTrue(self.announced["result"]["sdk"].startswith("paddock-dify/"))
        self.assertEqual(self.host.call("ping")["result"], {})

    def test_messages_stream_and_the_blob_is_joined(self):
        answer = self.invoke("show")
        text, data, blob = answer["result"]["messages"]
        self.assertEqual(text, {"type": "text", "message": {"text": "hi there"}, "meta": None})
        self.assertEqual(data["message"], {"json_object": {"n": 1}})
        self.assertEqual(blob["type"], "blob")
        self.assertEqual(base64.b64decode(blob["message"]["blob"]), bytes(range(256)) * 100)
        self.assertEqual(blob["meta"], {"mime_type": "image/png", "filename": "a.png"})
        chunks = [n["params"]["chunk"] for n in self.host.notifications if n["method"] == "stream.chunk" and n["params"]["id"] == answer["id"]]
        self.assertEqual(chunks, answer["result"]["messages"])

    def test_a_call_for_a_tenant_uses_its_settings(self):
        answer = self.invoke("show", context={"tenant": "acme", "settings": {"greeting": "acme"}})
        self.assertEqual(answer["result"]["messages"][0]["message"]["text"], "hi acme")

    def test_errors_carry_catalog_codes(self):
        failed = self.invoke("boom")["error"]
        self.assertEqual(failed["code"], -32000)
        self.assertEqual(failed["data"]["code"], 203)
        self.assertEqual(failed["data"]["details"]["error_type"], "ValueError")
        self.assertIn("the input was refused", failed["message"])
        self.assertEqual(self.invoke("memory")["error"]["data"]["code"], 301)
        unknown = self.host.call("model.invoke", {"model": "m"})["error"]
        self.assertEqual((unknown["code"], unknown["data"]["code"]), (-32601, 202))

    def test_storage_is_served_by_host_calls_for_the_tenant(self):
        answer = self.invoke("store", context={"tenant": "acme", "settings": {}})
        found = answer["result"]["messages"][0]["message"]["json_object"]["found"]
        self.assertEqual(found, [True, "v", "key not found", "storage quota exceeded (paddock error 205)"])
        storage_calls = [c for c in self.host.host_calls if c["method"].startswith("storage.")]
        self.assertTrue(storage_calls)
        self.assertTrue(all(c["params"]["tenant"] == "acme" for c in storage_calls))
        self.assertEqual(self.host.storage, {})

    def test_a_refused_host_call_fails_the_tool_with_its_code(self):
        failed = self.invoke("relay")["error"]
        self.assertEqual(failed["data"]["code"], 104)
        call = next(c for c in self.host.host_calls if c["method"] == "tool.invoke")
        self.assertEqual(call["params"], {"plugin": "other", "tool": "echo", "params": {"a": 1}})
        # Dify names another plugin's provider `author/plugin/provider`: the plugin is the installed one.
        self.assertEqual(self.invoke("relay_by_plugin_id")["error"]["data"]["code"], 104)
        call = [c for c in self.host.host_calls if c["method"] == "tool.invoke"][-1]
        self.assertEqual(call["params"], {"plugin": "other", "tool": "echo", "params": {"a": 2}})

    def test_credentials_are_validated_by_the_provider(self):
        self.assertEqual(self.host.call("credentials.validate", {"credentials": {"key": "ok"}})["result"], {"valid": True})
        refused = self.host.call("credentials.validate", {"credentials": {"key": "no"}})["result"]
        self.assertEqual(refused, {"valid": False, "message": "the key was refused"})

    def test_endpoint_gets_the_http_request_and_answers_in_base64(self):
        answer = self.host.call("endpoint.invoke", {
            "method": "POST", "path": "/echo/bob", "query": {"q": "a b"}, "headers": {"content-type": "text/plain"},
            "body": base64.b64encode(b"payload").decode(), "params": {},
        })["result"]
        self.assertEqual(answer["status"], 201)
        self.assertEqual(answer["headers"]["Content-Type"], "application/json")
        body = json.loads(base64.b64decode(answer["body"]))
        self.assertEqual(body, {"name": "bob", "q": "a b", "body": "payload", "greeting": "there"})

    def test_the_bridge_dies_like_its_plugin_and_stops_on_shutdown(self):
        host = Host(self.directory)
        try:
            host.call("initialize", {"settings": {}})
            bridge = host.process.pid
            with open(f"/proc/{bridge}/task/{bridge}/children") as file:
                plugin = int(file.read().split()[0])
            os.kill(plugin, signal.SIGKILL)
            self.assertEqual(host.process.wait(10), -signal.SIGKILL)
        finally:
            host.close()
        host = Host(self.directory)
        try:
            host.call("initialize", {"settings": {}})
            self.assertEqual(host.call("shutdown")["result"], {})
            self.assertEqual(host.process.wait(10), 0)
        finally:
            host.close()


class HostilePluginTests(unittest.TestCase):
    """A plugin that writes garbage, names sessions it was not given, asks
    for invocations nobody serves and writes an endless line: the bridge
    answers every call, passes on nothing that is not the call's own, and
    never hangs. Needs no SDK: it runs under every interpreter."""

    @classmethod
    def setUpClass(cls):
        cls.directory = tempfile.mkdtemp()
        with open(os.path.join(cls.directory, "hostile.py"), "w") as file:
            file.write(HOSTILE)
        cls.host = Host(cls.directory, entrypoint="hostile")
        cls.announced = cls.host.call("initialize", {"settings": {}}, timeout=20)

    @classmethod
    def tearDownClass(cls):
        cls.host.close()
        shutil.rmtree(cls.directory, ignore_errors=True)

    def test_an_unserved_invocation_gets_an_error_frame_and_other_sessions_are_ignored(self):
        self.assertIn("result", self.announced)
        answer = self.host.call("tool.invoke", {"tool": "run", "params": {"what": "weird"}}, timeout=20)
        messages = answer["result"]["messages"]
        self.assertEqual(len(messages), 1, messages)
        self.assertTrue(messages[0]["message"]["text"].startswith("error: "), messages)
        self.assertIn("weird", messages[0]["message"]["text"])
        chunks = [n["params"]["chunk"] for n in self.host.notifications if n["method"] == "stream.chunk"]
        self.assertNotIn("stolen", json.dumps(chunks))
        logged = " ".join(n["params"]["message"] for n in self.host.notifications if n["method"] == "log")
        self.assertIn("ffffffff", logged)

    def test_a_line_past_the_limit_fails_its_call_with_202_and_the_bridge_serves_on(self):
        failed = self.host.call("tool.invoke", {"tool": "run", "params": {"what": "overlong"}}, timeout=60)
        self.assertEqual(failed["error"]["data"]["code"], 202, failed)
        again = self.host.call("tool.invoke", {"tool": "run", "params": {"what": "weird"}}, timeout=20)
        self.assertIn("result", again)


if __name__ == "__main__":
    unittest.main()
