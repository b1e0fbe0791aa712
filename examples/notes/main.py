"""Notes: short notes kept in the host's key-value storage (permission.storage: 16KB).

Each note is JSON {"title", "text"} under `note/<id>`. Ids are 1, 2, 3, ...:
a counter at `meta/last-id` advanced with compare-and-set, so saves running
at once (workers: 4) never share an id, and an id is never reused. A save
past the quota fails with the host's error 205, which reaches the caller
unchanged.

Paddock starts it as `python3 -m paddock_plugin main.py`.
"""

import json

from paddock_plugin import Plugin, PluginError

plugin = Plugin()

PREFIX = "note/"
COUNTER = "meta/last-id"


def note_key(note_id):
    return f"{PREFIX}{int(note_id)}"


def next_id(storage):
    """Advances the counter by one with compare-and-set; retried when another save won the race."""
    for _ in range(100):
        current = storage.get(COUNTER)
        candidate = int(current or b"0") + 1
        if current is None:
            won = storage.set(COUNTER, str(candidate), if_absent=True)
        else:
            won = storage.set(COUNTER, str(candidate), expected=current)
        if won:
            return candidate
    raise PluginError(206, "too many notes saved at once; try again")


def all_notes(storage):
    """Every note as {"id", "title", "text"}, by id; pages through the store 100 at a time."""
    notes, cursor = [], None
    while True:
        page = storage.list(PREFIX, cursor=cursor, limit=100, values=True)
        for item in page["items"]:
            try:
                note = json.loads(item["value"])
                notes.append({"id": int(item["key"][len(PREFIX) :]), "title": note["title"], "text": note["text"]})
            except (ValueError, KeyError, TypeError):
                continue  # not a note this plugin wrote
        cursor = page["cursor"]
        if cursor is None:
            return sorted(notes, key=lambda note: note["id"])


@plugin.tool("save_note")
def save_note(params, context):
    """Stores a new note; returns its id and the storage used ({"bytes", "quota"})."""
    storage = context.storage
    note_id = next_id(storage)
    storage.set_json(note_key(note_id), {"title": params["title"], "text": params["text"]})
    context.log("note saved", id=note_id)
    return {"id": note_id, "usage": storage.usage()}


@plugin.tool("get_note")
def get_note(params, context):
    note = context.storage.get_json(note_key(params["id"]))
    if note is None:
        return {"id": params["id"], "found": False}
    return {"id": params["id"], "found": True, "title": note["title"], "text": note["text"]}


@plugin.tool("list_notes")
def list_notes(params, context):
    notes = [{"id": note["id"], "title": note["title"]} for note in all_notes(context.storage)]
    return {"count": len(notes), "notes": notes}


@plugin.tool("search_notes")
def search_notes(params, context):
    """Notes whose title or text contains the query, ignoring case."""
    query = params["query"].casefold()
    notes = [
        {"id": note["id"], "title": note["title"]}
        for note in all_notes(context.storage)
        if query in note["title"].casefold() or query in note["text"].casefold()
    ]
    return {"query": params["query"], "count": len(notes), "notes": notes}


@plugin.tool("delete_note")
def delete_note(params, context):
    storage = context.storage
    deleted = storage.delete(note_key(params["id"]))
    return {"id": params["id"], "deleted": deleted, "usage": storage.usage()}
