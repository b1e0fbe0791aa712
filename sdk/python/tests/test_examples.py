"""The Python examples (examples/notes, examples/mini-llm) against the SDK,
with the host's storage played in process (test_sdk.FakeHost).

Run with each supported interpreter: python3 -m unittest discover -s sdk/python/tests
"""

import importlib.util
import json
import os
import unittest

from test_sdk import SDK, FakeHost, Host

from paddock_plugin import Context, PluginError

EXAMPLES = os.path.join(os.path.dirname(os.path.dirname(SDK)), "examples")


def load(example):
    path = os.path.join(EXAMPLES, example, "main.py")
    spec = importlib.util.spec_from_file_location(f"example_{example.replace('-', '_')}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run(handler, *args):
    """A handler's chunks and result (a plain return has no chunks)."""
    result = handler(*args)
    if not hasattr(result, "__next__"):
        return [], result
    chunks = []
    while True:
        try:
            chunks.append(next(result))
        except StopIteration as stop:
            return chunks, stop.value


@unittest.skipUnless(os.path.isdir(os.path.join(EXAMPLES, "notes")), "no examples/notes here")
class NotesTests(unittest.TestCase):
    def setUp(self):
        self.notes = load("notes")
        self.host = FakeHost(quota=16000)
        self.context = Context(self.host, 1, {}, {})

    def tool(self, name, **params):
        return self.notes.plugin.tools[name](params, self.context)

    def test_save_get_list_search_delete(self):
        first = self.tool("save_note", title="Groceries", text="Milk, eggs and BREAD")
        self.assertEqual(first["id"], 1)
        self.assertEqual(first["usage"], {"bytes": self.host.usage_bytes(), "quota": 16000})
        self.assertEqual(json.loads(self.host.values["note/1"]), {"title": "Groceries", "text": "Milk, eggs and BREAD"})
        for i in range(2, 12):
            self.assertEqual(self.tool("save_note", title=f"Note {i}", text="nothing")["id"], i)
        self.assertEqual(self.tool("get_note", id=1), {"id": 1, "found": True, "title": "Groceries", "text": "Milk, eggs and BREAD"})
        self.assertEqual(self.tool("get_note", id=99), {"id": 99, "found": False})
        listed = self.tool("list_notes")
        self.assertEqual(listed["count"], 11)
        self.assertEqual([n["id"] for n in listed["notes"]], list(range(1, 12)))  # by id, not key order
        self.assertEqual(listed["notes"][0], {"id": 1, "title": "Groceries"})
        self.assertEqual(self.tool("search_notes", query="bread"), {"query": "bread", "count": 1, "notes": [{"id": 1, "title": "Groceries"}]})
        self.assertEqual(self.tool("search_notes", query="NOTE 1")["notes"], [{"id": 10, "title": "Note 10"}, {"id": 11, "title": "Note 11"}])
        deleted = self.tool("delete_note", id=1)
        self.assertEqual((deleted["id"], deleted["deleted"]), (1, True))
        self.assertEqual(deleted["usage"]["bytes"], self.host.usage_bytes())
        self.assertFalse(self.tool("delete_note", id=1)["deleted"])
        self.assertEqual(self.tool("save_note", title="After", text="")["id"], 12)  # ids are never reused

    def test_list_pages_through_many_notes(self):
        for i in range(1, 131):
            self.host.values[f"note/{i}"] = json.dumps({"title": f"t{i}", "text": ""}).encode()
        self.host.calls.clear()
        listed = self.tool("list_notes")
        self.assertEqual(listed["count"], 130)
        self.assertEqual(self.host.methods(), ["storage.list", "storage.list"])

    def test_ids_use_compare_and_set(self):
        real = self.host.storage_set
        raced = []

        def another_save_wins_once(params):
            if params["key"] == "meta/last-id" and "expected" in params and not raced:
                raced.append(True)
                self.host.values["meta/last-id"] = b"5"
            return real(params)

        self.host.storage_set = another_save_wins_once
        self.assertEqual(self.tool("save_note", title="a", text="")["id"], 1)
        self.assertEqual(self.tool("save_note", title="b", text="")["id"], 6)

    def test_quota_exceeded_is_205(self):
        with self.assertRaises(PluginError) as raised:
            for i in range(100):
                self.tool("save_note", title=f"note {i}", text="x" * 1000)
        self.assertEqual(raised.exception.code, 205)
        self.assertLessEqual(self.host.usage_bytes(), 16000)


@unittest.skipUnless(os.path.isdir(os.path.join(EXAMPLES, "notes")), "no examples/notes here")
class NotesOverTheWireTests(unittest.TestCase):
    """The notes plugin served by the SDK; this test answers its storage calls."""

    def setUp(self):
        with open(os.path.join(EXAMPLES, "notes", "main.py")) as file:
            self.host = Host(file.read())
        self.host.answer(self.host.call("initialize", {"workers": 4}))
        self.storage = FakeHost(quota=16000)

    def tearDown(self):
        self.host.close()

    def invoke(self, tool, params):
        request = self.host.call("tool.invoke", {"tool": tool, "params": params})
        while True:
            message = self.host.read()
            if "method" not in message and message.get("id") == request:
                return message
            if "method" in message and "id" in message:
                try:
                    answer = {"result": self.storage.call(message["method"], message["params"])}
                except PluginError as error:
                    answer = {"error": {"code": -32000, "message": error.message, "data": {"code": error.code, "details": error.details}}}
                self.host.socket.sendall(json.dumps(dict(answer, jsonrpc="2.0", id=message["id"])).encode() + b"\n")

    def test_save_then_quota_error_keeps_code_205(self):
        saved = self.invoke("save_note", {"title": "t", "text": "hello"})
        self.assertEqual(saved["result"]["id"], 1)
        failed = self.invoke("save_note", {"title": "big", "text": "x" * 20000})
        self.assertEqual(failed["error"]["data"]["code"], 205)
        self.assertEqual(self.invoke("list_notes", {})["result"], {"count": 1, "notes": [{"id": 1, "title": "t"}]})


@unittest.skipUnless(os.path.isdir(os.path.join(EXAMPLES, "mini-llm")), "no examples/mini-llm here")
class MiniLLMTests(unittest.TestCase):
    def setUp(self):
        self.llm = load("mini-llm")
        self.context = Context(FakeHost(), 1, {}, {})

    def chat(self, text, model="mini-chat", **params):
        return run(self.llm.plugin.models[model], [{"role": "user", "content": text}], params, self.context)

    def test_streams_word_by_word_and_adds_up(self):
        for model in ("mini-chat", "mini-markov"):
            for prompt in ["hello there", "tell me about the sandbox", "", "zzz qqq", "What does a plugin do?"]:
                chunks, result = self.chat(prompt, model)
                self.assertEqual("".join(c["delta"] for c in chunks), result["content"])
                self.assertEqual(result["usage"]["completion_tokens"], len(chunks))
                self.assertEqual(result["usage"]["prompt_tokens"], len(prompt.split()))
                self.assertIn(result["finish_reason"], ("stop", "length"))
                self.assertTrue(all(c["delta"].endswith(" ") for c in chunks[:-1]))

    def test_deterministic(self):
        for model in ("mini-chat", "mini-markov"):
            first = self.chat("tell me about the supervisor", model)
            self.assertEqual(first, self.chat("tell me about the supervisor", model))
            again = run(load("mini-llm").plugin.models[model], [{"role": "user", "content": "tell me about the supervisor"}], {}, self.context)
            self.assertEqual(first, again)
        self.assertNotEqual(self.chat("tell me about the supervisor", seed=1), self.chat("tell me about the supervisor", seed=2))

    def test_rules(self):
        self.assertEqual(self.chat("What is 12 * 3.5?")[1]["content"], "12 * 3.5 = 42.")
        self.assertEqual(self.chat("7 / 0")[1]["content"], "Dividing by zero has no answer.")
        self.assertEqual(self.chat("repeat after me: one two three")[1]["content"], "one two three")
        self.assertTrue(self.chat("Hello!")[1]["content"].startswith("Hello! I am mini-chat"))
        self.assertEqual(self.chat("thanks")[1]["content"], "You are welcome.")

    def test_max_tokens(self):
        chunks, result = self.chat("hello", max_tokens=3)
        self.assertEqual(result["content"], "Hello! I am")
        self.assertEqual((len(chunks), result["finish_reason"]), (3, "length"))
        chunks, result = self.chat("continue the chain", "mini-markov", max_tokens=10)
        self.assertEqual((len(chunks), result["finish_reason"]), (10, "length"))

    def test_message_shapes(self):
        messages = [{"role": "system", "content": "be brief"},
                    {"role": "user", "content": [{"type": "text", "text": "hi"}]},
                    {"role": "assistant", "content": "hello"},
                    {"role": "user", "content": "what is 2 + 2"}]
        _, result = run(self.llm.plugin.models["mini-chat"], messages, {}, self.context)
        self.assertEqual(result["content"], "2 + 2 = 4.")
        self.assertEqual(result["usage"]["prompt_tokens"], 2 + 1 + 1 + 5)
        with self.assertRaises(PluginError) as raised:
            run(self.llm.plugin.models["mini-chat"], "not a list", {}, self.context)
        self.assertEqual(raised.exception.code, 102)


    def test_served_by_the_sdk(self):
        with open(os.path.join(EXAMPLES, "mini-llm", "main.py")) as file:
            host = Host(file.read())
        try:
            _, announcement = host.answer(host.call("initialize", {"workers": 4}))
            self.assertEqual(announcement["result"]["models"], ["mini-chat", "mini-markov"])
            request = host.call("model.invoke", {"model": "mini-chat", "messages": [{"role": "user", "content": "what is 6 x 7"}],
                                                 "params": {"max_tokens": 64}})
            seen, answer = host.answer(request)
            self.assertEqual([m["params"]["chunk"] for m in seen], [{"delta": "6 "}, {"delta": "x "}, {"delta": "7 "}, {"delta": "= "}, {"delta": "42."}])
            self.assertEqual(answer["result"], {"content": "6 x 7 = 42.", "finish_reason": "stop",
                                                "usage": {"prompt_tokens": 5, "completion_tokens": 5, "total_tokens": 10}})
        finally:
            host.close()

if __name__ == "__main__":
    unittest.main()
