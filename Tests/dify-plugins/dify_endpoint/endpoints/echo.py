from collections.abc import Mapping

from werkzeug import Request, Response

from dify_plugin import Endpoint


class EchoEndpoint(Endpoint):
    def _invoke(self, r: Request, values: Mapping, settings: Mapping) -> Response:
        body = r.get_data()
        return Response(
            body,
            status=201,
            content_type="application/json",
            headers={"X-Echo-Length": str(len(body))},
        )
