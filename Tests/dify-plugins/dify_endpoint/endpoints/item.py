import json
from collections.abc import Mapping

from werkzeug import Request, Response

from dify_plugin import Endpoint


class ItemEndpoint(Endpoint):
    def _invoke(self, r: Request, values: Mapping, settings: Mapping) -> Response:
        return Response(
            json.dumps({"item": values["item_id"]}),
            status=200,
            content_type="application/json",
        )
