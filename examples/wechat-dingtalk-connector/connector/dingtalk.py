"""DingTalk outgoing-robot ("企业内部机器人") request signatures: the `sign`
header is base64 of HMAC-SHA256, keyed with the app secret, over the
`timestamp` header (milliseconds), a newline and the app secret. DingTalk
rejects requests more than an hour old; so does this."""

import base64
import hashlib
import hmac
import time

MAXIMUM_AGE_MS = 3600 * 1000


class SignatureError(Exception):
    pass


def sign(app_secret, timestamp):
    digest = hmac.new(app_secret.encode("utf-8"), f"{timestamp}\n{app_secret}".encode("utf-8"), hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def check(app_secret, timestamp, given, now_ms=None):
    if not app_secret:
        raise SignatureError("no DingTalk app secret is set")
    try:
        sent = int(timestamp)
    except (TypeError, ValueError):
        raise SignatureError("the timestamp header is missing or not a number") from None
    now_ms = now_ms if now_ms is not None else int(time.time() * 1000)
    if abs(now_ms - sent) > MAXIMUM_AGE_MS:
        raise SignatureError("the request is more than an hour old")
    if not hmac.compare_digest(sign(app_secret, timestamp), given or ""):
        raise SignatureError("the sign header does not match")
