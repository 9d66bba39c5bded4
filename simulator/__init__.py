"""The phone simulator (placeholder until the simulator work lands)."""
from flask import Blueprint

bp = Blueprint("simulator", __name__)
