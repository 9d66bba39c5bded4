"""The USSD edge: the gateway's wire format, the Redis session store, and the ``/ussd`` blueprint."""

from .hop import HopAnswer, HopHandler
from .sessions import SessionStore
from .views import bp
from .wire import UssdRequest, WireError, new_input, parse_request

__all__ = ["bp", "HopHandler", "HopAnswer", "SessionStore", "UssdRequest", "WireError", "parse_request",
           "new_input"]
