"""Weather Forecast: the plugin's entry point, run by Paddock's Python SDK."""

from paddock import Plugin

from endpoints.weather import weather

plugin = Plugin()
plugin.endpoint("GET", "/weather")(weather)


if __name__ == "__main__":
    plugin.run()
