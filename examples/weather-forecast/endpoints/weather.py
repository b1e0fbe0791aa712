"""The weather of a city, from the weather service named in the settings.

A 5xx answer or an unreachable service is retried with exponential backoff;
when it keeps failing the call fails with 201 (third-party API failed).
"""

import json
import time
import urllib.error
import urllib.parse
import urllib.request

from paddock_plugin import PluginError, UpstreamError

ATTEMPTS = 4
FIRST_DELAY = 0.1


def fetch(city, settings, context, attempts=ATTEMPTS):
    base = settings.get("api_base")
    key = settings.get("api_key")
    if not key:
        raise PluginError(101, "the setting api_key is missing")
    query = urllib.parse.urlencode({"city": city, "units": settings.get("units", "metric")})
    request = urllib.request.Request(f"{base.rstrip('/')}/v1/current?{query}", headers={"Authorization": f"Bearer {key}"})
    delay = FIRST_DELAY
    for attempt in range(1, attempts + 1):
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                return json.load(response)
        except urllib.error.HTTPError as error:
            if error.code < 500:
                raise UpstreamError(f"the weather service refused the request: HTTP {error.code}", {"status": error.code}) from None
            reason = f"HTTP {error.code}"
        except (urllib.error.URLError, TimeoutError, OSError) as error:
            reason = str(getattr(error, "reason", error))
        context.log("weather service failed", level="warn", attempt=attempt, reason=reason)
        if attempt < attempts:
            context.check_cancelled()
            time.sleep(delay)
            delay *= 2
    raise UpstreamError(f"the weather service kept failing ({reason}) after {attempts} attempts", {"attempts": attempts, "reason": reason})


def weather(request, context):
    """GET /weather?city=...: `city` was validated by the host before this runs."""
    return {"status": 200, "body": fetch(request.params["city"], context.settings, context)}


def current_weather(params, context):
    """The current_weather tool."""
    return fetch(params["city"], context.settings, context)


def check_credentials(credentials, context):
    """The seed's "test connection": one request to the weather service with
    the given api_key. True, or a message saying what is wrong."""
    settings = dict(context.settings, **credentials)
    try:
        fetch("London", settings, context, attempts=1)
    except PluginError as error:
        return error.message
    return True
