"""WeChat Work (WeCom) and DingTalk connector: messages from either platform
go through one of the tenant's Paddock flows, and the flow's answer goes back.

Endpoints (give each platform the tenant's own URL, with the plugin's
endpoints public: the platforms send no API key, and the plugin checks their
signatures with the tenant's secrets):
  GET  /t/{tenant}/e/wechat-dingtalk-connector/wecom/callback   URL verification (echostr)
  POST /t/{tenant}/e/wechat-dingtalk-connector/wecom/callback   an encrypted message → an encrypted reply
  POST /t/{tenant}/e/wechat-dingtalk-connector/dingtalk/robot   an outgoing-robot message → a text reply

Paddock starts it as `python3 -m paddock_plugin main.py`.
"""

import json
import time

from paddock_plugin import Plugin, PluginError

from connector import dingtalk, tokens, wecom

plugin = Plugin()

# The longest message text passed to a flow.
MAXIMUM_TEXT = 4000


def _forbidden(message):
    return {"status": 403, "headers": {"content-type": "text/plain"}, "body": message}


def _wecom_settings(context):
    settings = context.settings
    missing = [name for name in ("corp_id", "token", "encoding_aes_key") if not settings.get(name)]
    if missing:
        raise PluginError(101, "WeCom is not set up for this tenant: " + ", ".join(missing))
    return settings["token"], settings["encoding_aes_key"], settings["corp_id"]


def _reply(context, platform, user, text, extra=None):
    """The tenant's flow's answer to a message: its output's `reply` (or the output, when it is text)."""
    flow = context.settings.get("flow") or "connector-reply"
    message = {"platform": platform, "user": user, "content": text[:MAXIMUM_TEXT], **(extra or {})}
    output = context.flows.run(flow, message).get("output")
    if isinstance(output, dict):
        output = output.get("reply")
    return output if isinstance(output, str) else json.dumps(output, ensure_ascii=False)


@plugin.endpoint("GET", "/wecom/callback")
def wecom_verify(request, context):
    """WeCom's URL check: a signed, encrypted `echostr` whose plaintext is the answer."""
    token, key, corp_id = _wecom_settings(context)
    query = request.query
    try:
        wecom.check_signature(token, query.get("timestamp", ""), query.get("nonce", ""), query.get("echostr", ""), query.get("msg_signature"))
        plain = wecom.decrypt(key, query.get("echostr", ""), corp_id)
    except wecom.CryptoError as error:
        return _forbidden(str(error))
    return {"status": 200, "headers": {"content-type": "text/plain"}, "body": plain}


@plugin.endpoint("POST", "/wecom/callback")
def wecom_message(request, context):
    """A message from WeCom: checked, decrypted, answered by the flow, the answer encrypted and signed."""
    token, key, corp_id = _wecom_settings(context)
    query = request.query
    timestamp, nonce = query.get("timestamp", ""), query.get("nonce", "")
    try:
        envelope = wecom.parse_xml(request.body)
        encrypted = envelope.get("Encrypt", "")
        wecom.check_signature(token, timestamp, nonce, encrypted, query.get("msg_signature"))
        message = wecom.parse_xml(wecom.decrypt(key, encrypted, corp_id))
    except wecom.CryptoError as error:
        return _forbidden(str(error))
    except UnicodeDecodeError:
        return _forbidden("the message is not UTF-8")
    if message.get("MsgType") != "text":
        return {"status": 200, "body": "success"}  # WeCom's "received, no reply"
    user = message.get("FromUserName", "")
    answer = _reply(context, "wecom", user, message.get("Content", ""), {"agent_id": message.get("AgentID", "")})
    reply = wecom.text_reply(user, corp_id, answer)
    body = wecom.encrypted_reply(token, key, corp_id, reply, str(int(time.time())), nonce or "paddock")
    return {"status": 200, "headers": {"content-type": "application/xml"}, "body": body}


@plugin.endpoint("POST", "/dingtalk/robot")
def dingtalk_message(request, context):
    """A message to the tenant's DingTalk robot: the signature checked, the flow's answer as the reply."""
    try:
        dingtalk.check(context.settings.get("dingtalk_app_secret", ""), request.headers.get("timestamp"), request.headers.get("sign"))
    except dingtalk.SignatureError as error:
        return _forbidden(str(error))
    try:
        message = request.json()
    except ValueError:
        raise PluginError(202, "the body is not JSON") from None
    if not isinstance(message, dict) or message.get("msgtype") != "text":
        return {"status": 200, "body": {"msgtype": "empty"}}
    text = (message.get("text") or {}).get("content", "")
    user = message.get("senderStaffId") or message.get("senderNick") or ""
    answer = _reply(context, "dingtalk", user, str(text).strip(), {"conversation": message.get("conversationId", "")})
    return {"status": 200, "body": {"msgtype": "text", "text": {"content": answer}}}


@plugin.tool("send_wecom_message")
def send_wecom_message(params, context):
    """Sends a text to WeCom users through the API, with the tenant's cached access token."""
    agent_id = context.settings.get("agent_id", "")
    base = (context.settings.get("wecom_api_base") or "https://qyapi.weixin.qq.com").rstrip("/")
    body = {"touser": params["to"], "msgtype": "text", "agentid": agent_id, "text": {"content": params["text"]}}
    answer = tokens.TokenCache(context).call("wecom", lambda token: f"{base}/cgi-bin/message/send?access_token={token}", body)
    return {"sent": True, "msgid": answer.get("msgid", "")}


@plugin.credentials
def check_credentials(credentials, context):
    """The seed's "test connection": the EncodingAESKey's form, then a real token from each platform set up."""
    values = dict(context.settings, **credentials)
    if values.get("encoding_aes_key"):
        try:
            wecom.aes_key(values["encoding_aes_key"])
        except wecom.CryptoError as error:
            return str(error)
    checked = 0
    try:
        if values.get("corp_id") and values.get("corp_secret"):
            tokens.fetch("wecom", values)
            checked += 1
        if values.get("dingtalk_app_key") and values.get("dingtalk_app_secret"):
            tokens.fetch("dingtalk", values)
            checked += 1
    except PluginError as error:
        if error.code != 104:
            raise  # the platform could not be reached: an error, not a verdict
        return error.message
    return True if checked else "set corp_id and corp_secret (WeCom), or dingtalk_app_key and dingtalk_app_secret"
