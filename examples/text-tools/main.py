"""Text Tools: offline text utilities for Paddock.

Paddock starts it as `python3 -m paddock_plugin main.py`.
"""

import re
import time
import unicodedata

from paddock_plugin import Plugin, PluginError

plugin = Plugin()


@plugin.tool("word_count")
def word_count(params, context):
    text = params["text"]
    return {"words": len(text.split()), "characters": len(text), "lines": text.count("\n") + (1 if text else 0)}


@plugin.tool("slugify")
def slugify(params, context):
    text = unicodedata.normalize("NFKD", params["text"]).encode("ascii", "ignore").decode("ascii")
    words = re.findall(r"[a-z0-9]+", text.lower())
    return {"slug": params.get("separator", "-").join(words)}


PATH_STEP = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


@plugin.tool("json_path")
def json_path(params, context):
    value = params["document"]
    for key, index in PATH_STEP.findall(params["path"]):
        try:
            value = value[int(index)] if index else value[key]
        except (KeyError, IndexError, TypeError):
            raise PluginError(102, f"path {params['path']!r} does not exist in the document") from None
    return {"value": value}


@plugin.tool("split_words")
def split_words(params, context):
    """Yields each word as a chunk; the result is the number of words."""
    words = params["text"].split()
    for word in words:
        context.check_cancelled()
        if params.get("delay_ms"):
            time.sleep(params["delay_ms"] / 1000)
        yield {"word": word}
    return {"count": len(words)}
