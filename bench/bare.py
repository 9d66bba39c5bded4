"""The bare endpoint that bench/ussd.py compares Minerline with: Flask, one trivial POST handler.

Served exactly as Minerline is (``gunicorn -c gunicorn.conf.py ... bench.bare:app``), so the
difference between the two is what Minerline does in a hop.
"""

from flask import Flask, Response

app = Flask(__name__)


@app.post("/ussd")
def ussd() -> Response:
    return Response("CON hello", mimetype="text/plain")
