"""Declaring a plugin's handlers: tools, endpoints, models, a credentials validator."""


class Plugin:
    """The handlers of one plugin. Create one at module level and decorate functions:

        plugin = Plugin()

        @plugin.tool("word_count")
        def word_count(params, context):
            return {"words": len(params["text"].split())}
    """

    def __init__(self):
        self.tools = {}
        self.endpoints = {}
        self.models = {}
        self.credentials_validator = None

    def tool(self, name):
        """Registers `fn(params, context)` as the tool `name`; yield chunks to stream."""

        def register(fn):
            self.tools[name] = fn
            return fn

        return register

    def endpoint(self, method, path):
        """Registers `fn(request, context)` for `method path`; it returns
        {"status": 200, "headers": {...}, "body": dict, str or bytes}."""

        def register(fn):
            self.endpoints[(method.upper(), path)] = fn
            return fn

        return register

    def model(self, name):
        """Registers `fn(messages, params, context)` as the model `name`; yield chunks to stream."""

        def register(fn):
            self.models[name] = fn
            return fn

        return register

    def credentials(self, fn):
        """Registers `fn(credentials, context)` as the credentials validator:
        return True, or raise PluginError / return a message saying what is wrong."""
        self.credentials_validator = fn
        return fn

    def announcement(self):
        """What the plugin implements, as `initialize` answers it."""
        return {
            "tools": sorted(self.tools),
            "endpoints": [{"method": m, "path": p} for (m, p) in sorted(self.endpoints)],
            "models": sorted(self.models),
            "credentials": self.credentials_validator is not None,
        }
