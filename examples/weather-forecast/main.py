"""Weather Forecast: the plugin's handlers.

Paddock starts it as `python3 -m paddock_plugin main.py`: the SDK imports
this module, finds `plugin` and serves its handlers.
"""

from paddock_plugin import Plugin

from endpoints.weather import check_credentials, current_weather, weather

plugin = Plugin()
plugin.endpoint("GET", "/weather")(weather)
plugin.tool("current_weather")(current_weather)
plugin.credentials(check_credentials)
