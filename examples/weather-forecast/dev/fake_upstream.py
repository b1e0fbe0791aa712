"""A stand-in weather service on 127.0.0.1 for tests and `make run`.

    python3 fake_upstream.py [--key KEY] [--fail-first N] [--fail-always]

Prints its port on the first line of stdout, then serves
GET /v1/current?city=...&units=... with a deterministic forecast.
"""

import argparse
import hashlib
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

CONDITIONS = ["sunny", "cloudy", "light rain", "windy", "foggy", "snow"]


def forecast(city, units):
    digest = hashlib.sha256(city.strip().lower().encode("utf-8")).digest()
    celsius = digest[0] % 40 - 5
    return {
        "city": city,
        "condition": CONDITIONS[digest[1] % len(CONDITIONS)],
        "temperature": celsius if units == "metric" else round(celsius * 9 / 5 + 32),
        "units": units,
        "humidity": 30 + digest[2] % 60,
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--key", default="test-key")
    parser.add_argument("--fail-first", type=int, default=0)
    parser.add_argument("--fail-always", action="store_true")
    options = parser.parse_args()
    state = {"failures": options.fail_first, "requests": 0}
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            with lock:
                state["requests"] += 1
                failing = options.fail_always or state["failures"] > 0
                if state["failures"] > 0:
                    state["failures"] -= 1
            url = urlparse(self.path)
            query = parse_qs(url.query)
            if failing:
                self.answer(503, {"error": "temporarily unavailable"})
            elif self.headers.get("Authorization") != f"Bearer {options.key}":
                self.answer(401, {"error": "bad API key"})
            elif url.path != "/v1/current" or "city" not in query:
                self.answer(404, {"error": "not found"})
            else:
                self.answer(200, forecast(query["city"][0], query.get("units", ["metric"])[0]))

        def answer(self, status, body):
            data = json.dumps(body).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print(server.server_address[1], flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:  # Ctrl-C in `paddock up` reaches the whole process group
        pass


if __name__ == "__main__":
    main()
