"""Staff open a report's sealed text and call-back request; the reporter sees the status they set."""

from __future__ import annotations

import re

from insights.casework import call_backs, cases, set_status
from models import ReportStatus
from tests.ussd_steps import main_menu

NUMBER = "+256772123456"


def test_staff_read_sealed_details_and_call_backs_and_set_the_status(phone, runtime, sites):
    p = main_menu(phone, NUMBER, "en")
    for answer in ["4", "1", "4", "1", "1", "1", "2", "1", "1", "Half my pay was kept", "1"]:
        p.send(answer)
    code = "".join(re.search(r"(\d{4}) (\d{4})", p.screen).groups())
    for answer in ["1", "2", "1"]:  # call me back in the afternoon, on this phone
        p.send(answer)
    p = main_menu(phone, NUMBER, "en")
    for answer in ["4", "2", code, "1", "And the rest last week"]:
        p.send(answer)
    with runtime.sessions() as db:
        (case,) = cases(db, runtime.settings.secret_key)
        assert (case.category, case.site, case.district, case.status) == ("pay", "Kitumbi", "Mubende", "received")
        assert case.description == "Half my pay was kept"
        assert [text for _day, text in case.notes] == ["And the rest last week"]
        (call,) = call_backs(db, runtime.settings.secret_key)
        assert (call.report_id, call.number, call.when) == (case.id, NUMBER, "afternoon")
        set_status(db, case.id, ReportStatus.FOLLOWING_UP)
        db.commit()
    p = main_menu(phone, NUMBER, "en")
    for answer in ["4", "2", code]:
        p.send(answer)
    assert "It is being followed up." in p.screen
