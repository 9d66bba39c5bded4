"""Gateway callbacks (placeholder until the SMS core lands)."""
from flask import Blueprint

bp = Blueprint("sms", __name__)
