"""Reads the files it is given through the host (never a path), and makes files."""

import hashlib

from paddock_plugin import Plugin

plugin = Plugin()


@plugin.tool("digest")
def digest(params, context):
    md5 = hashlib.md5()
    size = 0
    for piece in context.files.pieces(params["file"]):
        md5.update(piece)
        size += len(piece)
    return {"md5": md5.hexdigest(), "size": size, "name": params["file"]["name"]}


@plugin.tool("make")
def make(params, context):
    return {"file": context.files.create("made.txt", params["text"].encode("utf-8"), "text/plain")}


@plugin.tool("peek")
def peek(params, context):
    return {"bytes": len(context.files.read(params["id"]))}
