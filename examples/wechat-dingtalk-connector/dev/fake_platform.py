"""A stand-in for the WeCom and DingTalk APIs on 127.0.0.1, for tests and
trying the connector out: access tokens (for corp id `ww-test` with secret
`corp-secret`, DingTalk app key `ding-test` with secret `ding-secret`), and
WeCom's message/send, which calls the first token it handed out expired.
Prints its port, then serves. GET /_stats: the calls it answered."""

import json
import http.server
import sys
import threading
import urllib.parse

stats = {"wecom_tokens": 0, "dingtalk_tokens": 0, "sent": 0}
lock = threading.Lock()


class Handler(http.server.BaseHTTPRequestHandler):
    def answer(self, body, status=200):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        query = dict(urllib.parse.parse_qsl(url.query))
        if url.path == "/cgi-bin/gettoken":
            if query.get("corpid") != "ww-test" or query.get("corpsecret") != "corp-secret":
                return self.answer({"errcode": 40013, "errmsg": "invalid corpid or secret"})
            with lock:
                stats["wecom_tokens"] += 1
                token = f"wecom-token-{stats['wecom_tokens']}"
            return self.answer({"errcode": 0, "errmsg": "ok", "access_token": token, "expires_in": 7200})
        if url.path == "/gettoken":
            if query.get("appkey") != "ding-test" or query.get("appsecret") != "ding-secret":
                return self.answer({"errcode": 40089, "errmsg": "invalid appkey or appsecret"})
            with lock:
                stats["dingtalk_tokens"] += 1
                token = f"ding-token-{stats['dingtalk_tokens']}"
            return self.answer({"errcode": 0, "errmsg": "ok", "access_token": token, "expires_in": 7200})
        if url.path == "/_stats":
            with lock:
                return self.answer(dict(stats))
        self.answer({"errcode": 404, "errmsg": "no such API"}, 404)

    def do_POST(self):
        url = urllib.parse.urlsplit(self.path)
        query = dict(urllib.parse.parse_qsl(url.query))
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if url.path == "/cgi-bin/message/send":
            if query.get("access_token") in (None, "wecom-token-1"):
                return self.answer({"errcode": 42001, "errmsg": "access_token expired"})
            with lock:
                stats["sent"] += 1
            return self.answer({"errcode": 0, "errmsg": "ok", "msgid": f"msg-{stats['sent']}"})
        self.answer({"errcode": 404, "errmsg": "no such API"}, 404)

    def log_message(self, *args):
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1]) if len(sys.argv) > 1 else 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
