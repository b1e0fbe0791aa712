"""GET /weather?city=...: the weather of a city.

The plugin declares no network permission, so it answers from a small
deterministic model instead of a weather service: the same city gives the
same forecast, which keeps the example runnable offline.
"""

import hashlib

CONDITIONS = ["sunny", "cloudy", "light rain", "windy", "foggy", "snow"]


def forecast(city, units="metric"):
    """A repeatable forecast for `city`."""
    digest = hashlib.sha256(city.strip().lower().encode("utf-8")).digest()
    celsius = digest[0] % 40 - 5
    temperature = celsius if units == "metric" else round(celsius * 9 / 5 + 32)
    return {
        "city": city,
        "condition": CONDITIONS[digest[1] % len(CONDITIONS)],
        "temperature": temperature,
        "units": units,
        "humidity": 30 + digest[2] % 60,
    }


def weather(request, context):
    """Endpoint handler: `city` was validated by the host before this runs."""
    units = context.settings.get("units", "metric")
    return {
        "status": 200,
        "headers": {"content-type": "application/json"},
        "body": forecast(request.params["city"], units),
    }
