from collections.abc import Mapping

from werkzeug import Request, Response

from dify_plugin import Endpoint


class HelloEndpoint(Endpoint):
    def _invoke(self, r: Request, values: Mapping, settings: Mapping) -> Response:
        greeting = settings.get("greeting") or "hello"
        name = r.args.get("name", "")
        return Response(
            f"{greeting}, {name}",
            status=200,
            content_type="text/plain; charset=utf-8",
            headers={"X-Plugin": "dify"},
        )
