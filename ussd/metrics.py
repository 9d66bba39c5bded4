"""USSD metrics. Labels never carry a phone number or an input."""

from prometheus_client import Counter, Histogram

__all__ = ["REQUESTS", "HOP_SECONDS", "SCREENS", "DUPLICATES", "SESSION_ENDS", "screen_counter", "request_counter"]

REQUESTS = Counter("minerline_ussd_requests_total", "USSD hops answered", ["outcome"])
HOP_SECONDS = Histogram(
    "minerline_ussd_hop_seconds", "Time to answer a USSD hop",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
SCREENS = Counter("minerline_ussd_screens_total", "Screens shown", ["screen"])
DUPLICATES = Counter("minerline_ussd_duplicates_total", "Repeated hops answered from the session")
SESSION_ENDS = Counter("minerline_ussd_session_ends_total", "End-of-session notifications", ["status"])

# A hop counts its screen and its outcome; the labelled counters are looked up once per label value,
# not under prometheus_client's lock on every hop. Screen ids come from the menus (a fixed set).
_screens: dict[str, Counter] = {}
_requests: dict[str, Counter] = {}


def screen_counter(screen: str) -> Counter:
    counter = _screens.get(screen)
    if counter is None:
        counter = _screens[screen] = SCREENS.labels(screen=screen)
    return counter


def request_counter(outcome: str) -> Counter:
    counter = _requests.get(outcome)
    if counter is None:
        counter = _requests[outcome] = REQUESTS.labels(outcome=outcome)
    return counter
