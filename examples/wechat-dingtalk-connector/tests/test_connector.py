"""The connector's tests. Messages are encrypted and signed here by the
documented algorithms with independent tools (openssl for AES-256-CBC,
hashlib and hmac for the signatures), never with the plugin's own code.

Without PADDOCK_GATEWAY only the offline tests run. With it (the gateway's
URL), PADDOCK_TENANT, PADDOCK_KEY (a key of that tenant) and FAKE_PLATFORM
(dev/fake_platform.py's URL), the live tests call the plugin through the
gateway as WeCom and DingTalk would: the tenant's WeCom token `wecom-token`,
EncodingAESKey CONNECTOR_AES_KEY, corp id `ww-test`; DingTalk secret `ding-secret`.
    python3 -m unittest discover -s tests   (from the plugin's folder)"""

import base64
import hashlib
import hmac
import json
import os
import random
import struct
import subprocess
import sys
import time
import unittest
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ElementTree

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from connector import aes, dingtalk, wecom  # noqa: E402

AES_KEY = os.environ.get("CONNECTOR_AES_KEY", "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG")
TOKEN, CORP_ID, DING_SECRET = "wecom-token", "ww-test", "ding-secret"


def openssl(mode, key, iv, data):
    run = subprocess.run(
        ["openssl", "enc", "-aes-256-cbc", "-nopad", "-d" if mode == "decrypt" else "-e", "-K", key.hex(), "-iv", iv.hex()],
        input=data, capture_output=True, check=True)
    return run.stdout


def reference_encrypt(message, receiver, key_text=AES_KEY):
    """WeCom's scheme, written from its documentation with openssl doing the AES."""
    key = base64.b64decode(key_text + "=")
    body = message.encode()
    plain = os.urandom(16) + struct.pack(">I", len(body)) + body + receiver.encode()
    pad = 32 - len(plain) % 32
    return base64.b64encode(openssl("encrypt", key, key[:16], plain + bytes([pad]) * pad)).decode()


def reference_decrypt(encrypted, key_text=AES_KEY):
    key = base64.b64decode(key_text + "=")
    plain = openssl("decrypt", key, key[:16], base64.b64decode(encrypted))
    content = plain[16:-plain[-1]]
    (length,) = struct.unpack(">I", content[:4])
    return content[4:4 + length].decode(), content[4 + length:].decode()


def reference_signature(*parts):
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()


def reference_ding_sign(secret, timestamp):
    return base64.b64encode(hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256).digest()).decode()


class OfflineTests(unittest.TestCase):
    def test_aes_matches_fips_197_and_openssl(self):
        key = bytes(range(32))
        block = bytes.fromhex("00112233445566778899aabbccddeeff")
        self.assertEqual(aes.encrypt_block(aes.expand_key(key), block).hex(), "8ea2b7ca516745bfeafc49904b496089")
        for _ in range(5):
            key, iv, data = os.urandom(32), os.urandom(16), os.urandom(16 * random.randint(1, 8))
            self.assertEqual(aes.cbc_encrypt(key, iv, data), openssl("encrypt", key, iv, data))
            self.assertEqual(aes.cbc_decrypt(key, iv, openssl("encrypt", key, iv, data)), data)

    def test_wecom_crypto_agrees_with_the_documented_scheme(self):
        text = "<xml><Content><![CDATA[你好, WeCom]]></Content></xml>"
        self.assertEqual(wecom.decrypt(AES_KEY, reference_encrypt(text, CORP_ID), CORP_ID), text)
        self.assertEqual(reference_decrypt(wecom.encrypt(AES_KEY, text, CORP_ID)), (text, CORP_ID))
        self.assertEqual(wecom.signature(TOKEN, "1", "n", "enc"), reference_signature(TOKEN, "1", "n", "enc"))

    def test_hostile_wecom_input_is_refused(self):
        encrypted = reference_encrypt("hello", CORP_ID)
        with self.assertRaises(wecom.CryptoError):
            wecom.decrypt(AES_KEY, encrypted, "another-corp")
        with self.assertRaises(wecom.CryptoError):
            wecom.decrypt("B" * 43, encrypted, CORP_ID)
        for garbage in ["", "!!!", base64.b64encode(b"x" * 15).decode(), base64.b64encode(os.urandom(64)).decode()]:
            with self.assertRaises(wecom.CryptoError):
                wecom.decrypt(AES_KEY, garbage, CORP_ID)
        with self.assertRaises(wecom.CryptoError):
            wecom.parse_xml('<!DOCTYPE x [<!ENTITY a "aaaa">]><xml><a>&a;</a></xml>')
        with self.assertRaises(wecom.CryptoError):
            wecom.check_signature(TOKEN, "1", "n", "enc", "0" * 40)

    def test_dingtalk_signatures(self):
        now = int(time.time() * 1000)
        dingtalk.check(DING_SECRET, str(now), reference_ding_sign(DING_SECRET, now))
        for timestamp, sign in [(now, "x"), (now - 2 * 3600 * 1000, None), ("soon", None)]:
            with self.assertRaises(dingtalk.SignatureError):
                dingtalk.check(DING_SECRET, str(timestamp), sign or reference_ding_sign(DING_SECRET, timestamp))


@unittest.skipUnless(os.environ.get("PADDOCK_GATEWAY"), "needs a gateway: PADDOCK_GATEWAY, PADDOCK_TENANT, PADDOCK_KEY, FAKE_PLATFORM")
class LiveTests(unittest.TestCase):
    gateway = os.environ.get("PADDOCK_GATEWAY", "")
    tenant = os.environ.get("PADDOCK_TENANT", "")
    key = os.environ.get("PADDOCK_KEY", "")
    plugin = "wechat-dingtalk-connector"

    def call(self, method, path, body=None, headers=None, key=None):
        request = urllib.request.Request(self.gateway + path, data=body, method=method, headers=headers or {})
        if key:
            request.add_header("Authorization", "Bearer " + key)
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return response.status, response.read(), response.headers
        except urllib.error.HTTPError as error:
            return error.code, error.read(), error.headers

    def endpoint(self, method, path, query=None, body=None, headers=None):
        url = f"/t/{self.tenant}/e/{self.plugin}{path}" + ("?" + urllib.parse.urlencode(query) if query else "")
        return self.call(method, url, body, headers)

    def flow_answer(self, platform, user, content, **extra):
        """What the tenant's flow answers, asked directly."""
        body = json.dumps({"input": {"platform": platform, "user": user, "content": content, **extra}}).encode()
        status, answer, _ = self.call("POST", "/v1/flows/connector-reply/runs", body, {"Content-Type": "application/json"}, self.key)
        self.assertEqual(status, 200, answer)
        return json.loads(answer)["output"]["reply"]

    def test_wecom_url_verification(self):
        echostr = reference_encrypt("echo-4821", CORP_ID)
        query = {"timestamp": "1700000000", "nonce": "n1", "echostr": echostr}
        status, body, _ = self.endpoint("GET", "/wecom/callback", dict(query, msg_signature=reference_signature(TOKEN, "1700000000", "n1", echostr)))
        self.assertEqual((status, body), (200, b"echo-4821"))
        status, _, _ = self.endpoint("GET", "/wecom/callback", dict(query, msg_signature=reference_signature(TOKEN, "1700000001", "n1", echostr)))
        self.assertEqual(status, 403)

    def wecom_post(self, encrypted, signature=None, timestamp="1700000000", nonce="n2"):
        envelope = f"<xml><ToUserName><![CDATA[{CORP_ID}]]></ToUserName><AgentID><![CDATA[1000002]]></AgentID><Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>"
        query = {"timestamp": timestamp, "nonce": nonce, "msg_signature": signature or reference_signature(TOKEN, timestamp, nonce, encrypted)}
        return self.endpoint("POST", "/wecom/callback", query, envelope.encode(), {"Content-Type": "application/xml"})

    def test_a_wecom_message_is_answered_by_the_flow_encrypted(self):
        message = (f"<xml><ToUserName><![CDATA[{CORP_ID}]]></ToUserName><FromUserName><![CDATA[zhangsan]]></FromUserName>"
                   "<CreateTime>1700000000</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[Hello there]]></Content>"
                   "<MsgId>1234567890</MsgId><AgentID>1000002</AgentID></xml>")
        status, body, _ = self.wecom_post(reference_encrypt(message, CORP_ID))
        self.assertEqual(status, 200, body)
        reply = {child.tag: child.text for child in ElementTree.fromstring(body)}
        self.assertEqual(reply["MsgSignature"], reference_signature(TOKEN, reply["TimeStamp"], reply["Nonce"], reply["Encrypt"]))
        plain, receiver = reference_decrypt(reply["Encrypt"])
        self.assertEqual(receiver, CORP_ID)
        inner = {child.tag: child.text for child in ElementTree.fromstring(plain)}
        self.assertEqual(inner["ToUserName"], "zhangsan")
        self.assertEqual(inner["MsgType"], "text")
        self.assertEqual(inner["Content"], self.flow_answer("wecom", "zhangsan", "Hello there", agent_id="1000002"))

    def test_tampered_wecom_messages_get_403(self):
        encrypted = reference_encrypt("<xml><MsgType>text</MsgType><Content>hi</Content></xml>", CORP_ID)
        self.assertEqual(self.wecom_post(encrypted, signature="0" * 40)[0], 403)
        flipped = encrypted[:10] + ("A" if encrypted[10] != "A" else "B") + encrypted[11:]
        self.assertEqual(self.wecom_post(flipped, signature=reference_signature(TOKEN, "1700000000", "n2", encrypted))[0], 403)
        self.assertEqual(self.wecom_post(reference_encrypt("<xml><MsgType>text</MsgType></xml>", "another-corp"))[0], 403)
        status, _, _ = self.endpoint("POST", "/wecom/callback", {"msg_signature": "x"}, b'<!DOCTYPE x [<!ENTITY a "b">]><xml/>')
        self.assertEqual(status, 403)

    def test_a_dingtalk_message_is_answered_and_a_bad_sign_gets_403(self):
        now = int(time.time() * 1000)
        message = {"msgtype": "text", "text": {"content": " what is 2 + 3 "}, "senderStaffId": "lisi", "conversationId": "c1"}
        headers = {"Content-Type": "application/json", "timestamp": str(now), "sign": reference_ding_sign(DING_SECRET, now)}
        status, body, _ = self.endpoint("POST", "/dingtalk/robot", body=json.dumps(message).encode(), headers=headers)
        self.assertEqual(status, 200, body)
        answer = json.loads(body)
        self.assertEqual(answer["msgtype"], "text")
        self.assertEqual(answer["text"]["content"], self.flow_answer("dingtalk", "lisi", "what is 2 + 3", conversation="c1"))
        for bad in [dict(headers, sign=reference_ding_sign("other", now)),
                    dict(headers, timestamp=str(now - 7200 * 1000), sign=reference_ding_sign(DING_SECRET, now - 7200 * 1000))]:
            self.assertEqual(self.endpoint("POST", "/dingtalk/robot", body=json.dumps(message).encode(), headers=bad)[0], 403)

    def test_credentials_are_checked_against_the_platform(self):
        path = f"/v1/tenants/{self.tenant}/plugins/{self.plugin}/settings/test"
        good = {"credentials": {"corp_id": CORP_ID, "corp_secret": "corp-secret"}}
        status, body, _ = self.call("POST", path, json.dumps(good).encode(), {"Content-Type": "application/json"}, self.key)
        self.assertEqual((status, json.loads(body).get("valid")), (200, True), body)
        bad = {"credentials": {"corp_id": CORP_ID, "corp_secret": "wrong"}}
        status, body, _ = self.call("POST", path, json.dumps(bad).encode(), {"Content-Type": "application/json"}, self.key)
        self.assertEqual(json.loads(body).get("valid"), False, body)
        self.assertIn("40013", json.loads(body).get("message", ""))

    def test_access_tokens_are_cached_and_refreshed(self):
        stats = lambda: json.load(urllib.request.urlopen(os.environ["FAKE_PLATFORM"] + "/_stats"))  # noqa: E731
        before = stats()
        send = json.dumps({"to": "zhangsan", "text": "hello"}).encode()
        path = f"/v1/plugins/{self.plugin}/tools/send_wecom_message"
        for _ in range(3):
            status, body, _ = self.call("POST", path, send, {"Content-Type": "application/json"}, self.key)
            self.assertEqual(status, 200, body)
        middle = stats()
        self.assertEqual(middle["sent"] - before["sent"], 3)
        # At most a first token, which the platform calls expired, and its refresh.
        self.assertLessEqual(middle["wecom_tokens"] - before["wecom_tokens"], 2)
        status, body, _ = self.call("POST", path, send, {"Content-Type": "application/json"}, self.key)
        self.assertEqual(status, 200, body)
        self.assertEqual(stats()["wecom_tokens"], middle["wecom_tokens"], "the cached token served")

if __name__ == "__main__":
    unittest.main()
