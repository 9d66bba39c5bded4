"""The phone simulator: a feature phone in the browser that dials the USSD service and reads
the SMS each number received from the local sandbox. Off when SMS go to the real gateway."""

from .inbox import Inbox, fetch_inbox
from .views import bp, is_enabled

__all__ = ["bp", "is_enabled", "Inbox", "fetch_inbox"]
