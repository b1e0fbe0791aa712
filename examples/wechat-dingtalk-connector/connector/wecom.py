"""WeCom (WeChat Work) callback crypto, as WeCom documents it ("加解密方案"):

- signature: SHA-1 over the sorted token, timestamp, nonce and encrypted
  message, joined, in hex;
- the key: base64 of the 43-character EncodingAESKey plus "=", 32 bytes;
  AES-256-CBC with the key's first 16 bytes as IV;
- the plaintext: 16 random bytes, the message's length (4 bytes, big-endian),
  the message, the receiver's id (the corp id), PKCS#7-padded to 32-byte blocks.
"""

import base64
import hashlib
import hmac
import os
import struct
import time
import xml.etree.ElementTree as ElementTree

from . import aes

BLOCK = 32


class CryptoError(Exception):
    """A message that does not check out: bad signature, key, padding or receiver."""


def signature(token, timestamp, nonce, encrypted):
    return hashlib.sha1("".join(sorted([token, timestamp, nonce, encrypted])).encode("utf-8")).hexdigest()


def check_signature(token, timestamp, nonce, encrypted, given):
    if not hmac.compare_digest(signature(token, timestamp, nonce, encrypted), given or ""):
        raise CryptoError("the message signature does not match")


def aes_key(encoding_aes_key):
    try:
        key = base64.b64decode(encoding_aes_key + "=", validate=True)
    except (ValueError, TypeError):
        raise CryptoError("the EncodingAESKey is not base64") from None
    if len(encoding_aes_key) != 43 or len(key) != 32:
        raise CryptoError("the EncodingAESKey must be 43 characters (32 bytes)")
    return key


def encrypt(encoding_aes_key, message, receiver, random=None):
    """`message` (text) for `receiver`, encrypted and in base64."""
    key = aes_key(encoding_aes_key)
    body = message.encode("utf-8")
    plain = (random or os.urandom(16)) + struct.pack(">I", len(body)) + body + receiver.encode("utf-8")
    pad = BLOCK - len(plain) % BLOCK
    plain += bytes([pad]) * pad
    return base64.b64encode(aes.cbc_encrypt(key, key[:16], plain)).decode("ascii")


def decrypt(encoding_aes_key, encrypted, receiver):
    """The message in `encrypted` (base64); the receiver it names must be `receiver`."""
    key = aes_key(encoding_aes_key)
    try:
        data = base64.b64decode(encrypted, validate=True)
    except (ValueError, TypeError):
        raise CryptoError("the encrypted message is not base64") from None
    if not data or len(data) % 16:
        raise CryptoError("the encrypted message is not whole AES blocks")
    plain = aes.cbc_decrypt(key, key[:16], data)
    pad = plain[-1]
    if not 1 <= pad <= BLOCK or plain[-pad:] != bytes([pad]) * pad:
        raise CryptoError("bad padding: the message was not encrypted with this key")
    content = plain[16:-pad]
    if len(content) < 4:
        raise CryptoError("the decrypted message is too short")
    (length,) = struct.unpack(">I", content[:4])
    if length > len(content) - 4:
        raise CryptoError("the decrypted message's length is wrong")
    message, named = content[4:4 + length], content[4 + length:]
    if named.decode("utf-8", "replace") != receiver:
        raise CryptoError("the message is for another receiver (corp id)")
    return message.decode("utf-8")


def parse_xml(text):
    """A flat WeCom XML document as {tag: text}; DTDs and entities refused."""
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    if "<!DOCTYPE" in text.upper() or "<!ENTITY" in text.upper():
        raise CryptoError("XML with a DTD is refused")
    try:
        root = ElementTree.fromstring(text)
    except ElementTree.ParseError as error:
        raise CryptoError(f"the body is not XML: {error}") from None
    return {child.tag: (child.text or "") for child in root}


def cdata(text):
    return "<![CDATA[" + str(text).replace("]]>", "]]]]><![CDATA[>") + "]]>"


def text_reply(to_user, from_user, content, now=None):
    """A passive text reply message, before encryption."""
    return (
        f"<xml><ToUserName>{cdata(to_user)}</ToUserName><FromUserName>{cdata(from_user)}</FromUserName>"
        f"<CreateTime>{int(now or time.time())}</CreateTime><MsgType>{cdata('text')}</MsgType>"
        f"<Content>{cdata(content)}</Content></xml>"
    )


def encrypted_reply(token, encoding_aes_key, receiver, message, timestamp, nonce):
    """The response body: the encrypted message, signed."""
    encrypted = encrypt(encoding_aes_key, message, receiver)
    return (
        f"<xml><Encrypt>{cdata(encrypted)}</Encrypt><MsgSignature>{cdata(signature(token, timestamp, nonce, encrypted))}</MsgSignature>"
        f"<TimeStamp>{timestamp}</TimeStamp><Nonce>{cdata(nonce)}</Nonce></xml>"
    )
