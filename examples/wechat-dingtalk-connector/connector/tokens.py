"""Access tokens of WeCom and DingTalk, cached in the plugin's storage (the
tenant's own) until shortly before they expire, and fetched again when the
platform says a cached one has expired."""

import json
import time
import urllib.error
import urllib.parse
import urllib.request

from paddock_plugin import PluginError, UpstreamError

# WeCom's and DingTalk's "access token expired / invalid" codes.
EXPIRED = {40014, 42001, 40001, 88}


def get_json(url, body=None, timeout=5):
    """GET (or POST `body` as JSON) and read a JSON answer; upstream trouble is 201."""
    data = None if body is None else json.dumps(body).encode("utf-8")
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"} if data else {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return json.load(response)
    except urllib.error.HTTPError as error:
        raise UpstreamError(f"{urllib.parse.urlsplit(url).netloc} answered HTTP {error.code}") from None
    except (urllib.error.URLError, TimeoutError, OSError, ValueError) as error:
        raise UpstreamError(f"{urllib.parse.urlsplit(url).netloc} could not be reached: {error}") from None


def fetch(platform, settings, credentials=None):
    """A fresh token from the platform: (token, seconds it lives)."""
    values = dict(settings, **(credentials or {}))
    if platform == "wecom":
        base = values.get("wecom_api_base") or "https://qyapi.weixin.qq.com"
        query = {"corpid": values.get("corp_id", ""), "corpsecret": values.get("corp_secret", "")}
        url = f"{base.rstrip('/')}/cgi-bin/gettoken?{urllib.parse.urlencode(query)}"
    else:
        base = values.get("dingtalk_api_base") or "https://oapi.dingtalk.com"
        query = {"appkey": values.get("dingtalk_app_key", ""), "appsecret": values.get("dingtalk_app_secret", "")}
        url = f"{base.rstrip('/')}/gettoken?{urllib.parse.urlencode(query)}"
    answer = get_json(url)
    if answer.get("errcode", 0) != 0 or not answer.get("access_token"):
        raise PluginError(104, f"{platform} refused the credentials: {answer.get('errmsg', 'no token')} ({answer.get('errcode')})")
    return answer["access_token"], int(answer.get("expires_in", 7200))


class TokenCache:
    """Tokens in the plugin's storage, by platform: used until a margin before they expire."""

    def __init__(self, context):
        self.context = context

    def key(self, platform):
        return f"token:{platform}"

    def get(self, platform, refresh=False):
        cached = None if refresh else self.context.storage.get(self.key(platform))
        now = time.time()
        if cached:
            entry = json.loads(cached)
            if entry["expires_at"] > now:
                return entry["token"]
        token, lifetime = fetch(platform, self.context.settings)
        margin = min(300, lifetime // 2)
        entry = {"token": token, "expires_at": now + lifetime - margin}
        self.context.storage.set(self.key(platform), json.dumps(entry).encode("utf-8"))
        return token

    def call(self, platform, make_url, body):
        """POSTs `body` to the URL made from a token; a token the platform calls expired is fetched again, once."""
        answer = get_json(make_url(self.get(platform)), body)
        if answer.get("errcode") in EXPIRED:
            answer = get_json(make_url(self.get(platform, refresh=True)), body)
        if answer.get("errcode", 0) != 0:
            raise UpstreamError(f"{platform} refused the message: {answer.get('errmsg')} ({answer.get('errcode')})")
        return answer
