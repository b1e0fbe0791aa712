"""Mini LLM: a deterministic, offline model plugin for Paddock.

`mini-chat` answers a few kinds of message by rule (greetings, who it is,
arithmetic, "repeat after me", thanks) and anything else with one or two
sentences from a bigram Markov chain over the built-in text below.
`mini-markov` continues the last message with the chain.

No randomness: every choice comes from a SHA-256 of the model, the messages
and the `seed` parameter, so the same call always gives the same reply, on
any machine and Python version. Words ("tokens") are whitespace-separated.

Paddock starts it as `python3 -m paddock_plugin main.py`.
"""

import hashlib
import json
import math
import re

from paddock_plugin import Plugin, PluginError

plugin = Plugin()

CORPUS = """
Paddock keeps every plugin in its own small field. A plugin runs as a child process and
talks to the supervisor over a socket. The supervisor starts the plugin, watches it, and
restarts it when it falls over. A plugin can only do what its manifest declares. The
sandbox closes every door the manifest does not open. Memory is capped, time is capped,
and the network stays shut unless the manifest asks for it. A tool answers a question
and returns a result. A model reads the messages and streams its answer one word at a
time. An endpoint answers a request from the gateway. The gateway speaks HTTP to the
world and JSON to the supervisor. Storage gives each plugin a shelf of its own, with a
quota it cannot pass. When a plugin crashes, the supervisor reads the signal and writes
down what went wrong. When a plugin crashes too often, the supervisor stops trying and
waits for an operator. A good plugin answers quickly, says what it needs, and leaves the
rest of the field alone. The horses in the paddock graze in the morning and rest in the
afternoon. The fence is old but it holds, and the gate is shut every evening. Small models
know little, but they always give the same answer to the same question. A Markov chain
remembers only the last word, so it wanders from one idea to the next. It is a modest
way to write, but it is honest about what it knows.
"""

WORDS = CORPUS.split()
FOLLOWERS = {}
for _word, _next in zip(WORDS, WORDS[1:]):
    FOLLOWERS.setdefault(_word, []).append(_next)
STARTS = [WORDS[0]] + [w for prev, w in zip(WORDS, WORDS[1:]) if prev.endswith(".")]
# Bare lowercase word -> where it appears in the corpus ("plugin" -> "plugin", "plugin.", ...).
INDEX = {}
for _position, _word in enumerate(WORDS):
    INDEX.setdefault(_word.strip(".,").lower(), []).append(_position)
ARTICLES = {"a", "an", "the"}
STOPWORDS = set("the a an and or but is are was be to of in on at it its this that what who how why when "
                "can you your me my i do does tell about with for from please".split())

NUMBER = r"(-?\d+(?:\.\d+)?)"
ARITHMETIC = re.compile(NUMBER + r"\s*([-+*/x×÷])\s*" + NUMBER)
REPEAT = re.compile(r"^\s*(?:repeat(?: after me)?|say|echo)\s*:?\s+(.+)$", re.IGNORECASE | re.DOTALL)
GREETING = re.compile(r"^\s*(hi|hello|hey|good (morning|afternoon|evening))\b", re.IGNORECASE)
IDENTITY = re.compile(r"\b(who are you|your name|what are you)\b", re.IGNORECASE)
THANKS = re.compile(r"\b(thanks|thank you)\b", re.IGNORECASE)
CLOCK = re.compile(r"\b(time|date|today)\b", re.IGNORECASE)


class Chooser:
    """Deterministic choices: each one a SHA-256 of the seed and a step counter."""

    def __init__(self, seed):
        self.seed = seed
        self.step = 0

    def choice(self, options):
        self.step += 1
        digest = hashlib.sha256(self.seed + self.step.to_bytes(8, "big")).digest()
        return options[int.from_bytes(digest[:8], "big") % len(options)]


def text_of(content):
    """A message's text: a string, or the text parts of a list of parts."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = [(part.get("text") or part.get("data") or "") if isinstance(part, dict) else str(part) for part in content]
        return " ".join(part for part in parts if isinstance(part, str))
    return str(content)


def read_messages(messages):
    """The text of every message, and of the one to answer (the last user message)."""
    if not isinstance(messages, list) or not all(isinstance(m, dict) for m in messages):
        raise PluginError(102, "messages must be a list of {role, content} objects")
    texts = [text_of(m.get("content")) for m in messages]
    users = [text for m, text in zip(messages, texts) if m.get("role") == "user"]
    return texts, (users or texts or [""])[-1]


def chain(chooser, words, limit, sentences=None):
    """Walks the bigram chain on from `words`: up to `limit` words, or until `sentences` have ended."""
    words, ended = list(words), 0
    while len(words) < limit:
        if words[-1].endswith("."):
            ended += 1
            if sentences is not None and ended >= sentences:
                break
        words.append(chooser.choice(FOLLOWERS.get(words[-1]) or STARTS))
    return words


def opening(chooser, prompt):
    """Where a reply starts: at a corpus word the prompt mentions (its first content
    word the corpus knows, with the article before it), else at a sentence start."""
    for word in re.findall(r"[a-z]+", prompt.lower()):
        if word not in STOPWORDS and word in INDEX:
            position = chooser.choice(INDEX[word])
            before = WORDS[position - 1] if position > 0 else ""
            return [before, WORDS[position]] if before.lower() in ARTICLES else [WORDS[position]]
    return [chooser.choice(STARTS)]


def arithmetic(match):
    left, operator, right = float(match.group(1)), match.group(2), float(match.group(3))
    if operator in "+-":
        value = left + right if operator == "+" else left - right
    elif operator in "*x×":
        value = left * right
    elif right == 0:
        return "Dividing by zero has no answer."
    else:
        value = left / right
    if not math.isfinite(value):
        return "That number is too large for me."
    shown = str(int(value)) if value == int(value) and abs(value) < 1e15 else f"{value:.6g}"
    return f"{match.group(1)} {operator} {match.group(3)} = {shown}."


def chat_reply(chooser, prompt, limit):
    """mini-chat's reply as a list of words."""
    if not prompt.strip():
        return "Say something and I will answer.".split()
    if repeat := REPEAT.match(prompt):
        return repeat.group(1).split()
    if GREETING.match(prompt):
        return "Hello! I am mini-chat, a small offline model running inside Paddock. Ask me anything, or ask me to add two numbers.".split()
    if IDENTITY.search(prompt):
        return "I am mini-chat: a few rules and a bigram Markov chain over a built-in text. The same messages always get the same answer.".split()
    if sum_ := ARITHMETIC.search(prompt):
        return arithmetic(sum_).split()
    if THANKS.search(prompt):
        return "You are welcome.".split()
    if CLOCK.search(prompt):
        return "I have no clock: I run offline and answer the same way every time.".split()
    words = chain(chooser, opening(chooser, prompt), limit + 1, sentences=2)
    words[0] = words[0][:1].upper() + words[0][1:]
    return words


def markov_reply(chooser, prompt, limit):
    """mini-markov's continuation of the prompt as a list of words."""
    last = prompt.split()[-1] if prompt.split() else ""
    if last in FOLLOWERS:
        return chain(chooser, [chooser.choice(FOLLOWERS[last])], limit + 1)
    return chain(chooser, opening(chooser, last)[-1:], limit + 1)


def respond(model, reply, messages, params, context):
    """Streams the reply word by word ({"delta": "word "}); returns it whole with token counts."""
    limit = int(params.get("max_tokens", 64))
    texts, prompt = read_messages(messages)
    seed = json.dumps([model, messages, params.get("seed", 0)], sort_keys=True, ensure_ascii=False).encode("utf-8")
    words = reply(Chooser(hashlib.sha256(seed).digest()), prompt, limit)
    finish_reason = "length" if len(words) > limit else "stop"
    words = words[:limit]
    deltas = [word + " " for word in words[:-1]] + words[-1:]
    for delta in deltas:
        context.check_cancelled()
        yield {"delta": delta}
    prompt_tokens = sum(len(text.split()) for text in texts)
    return {
        "content": "".join(deltas),
        "finish_reason": finish_reason,
        "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": len(deltas), "total_tokens": prompt_tokens + len(deltas)},
    }


@plugin.model("mini-chat")
def mini_chat(messages, params, context):
    return (yield from respond("mini-chat", chat_reply, messages, params, context))


@plugin.model("mini-markov")
def mini_markov(messages, params, context):
    return (yield from respond("mini-markov", markov_reply, messages, params, context))
