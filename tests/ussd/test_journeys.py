"""Journeys through POST /ussd with real Redis and a real database, as the gateway sends them."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import func, select

from menus import LANGUAGES, Catalogs
from menus.engine import MSG_NAV
from menus.rights import AREAS, MSG_SMS_OPTION
from models import LanguageChoice, Member, OutboxMessage, Role
from tests.budget import counting
from tests.helpers import Phone

NON_MEMBER = "+256700000009"
LANG_CHOICE = {"en": "1", "lg": "2", "sw": "3"}
CATALOGS = Catalogs.load(Path(__file__).resolve().parents[2] / "locales")
SMS_OPTION = {lang: CATALOGS.translator(lang)(MSG_SMS_OPTION) for lang in LANGUAGES}
NAV = {lang: CATALOGS.translator(lang)(MSG_NAV) for lang in LANGUAGES}


def _page_to_end(phone: Phone, limit: int = 12) -> str:
    screen = phone.screen
    for _ in range(limit):
        if "\n98 " not in screen:
            return screen
        screen = phone.send("98")
    raise AssertionError("topic never reached its last page")


@pytest.mark.parametrize("lang", ["en", "lg", "sw"])
def test_every_menu_path_in_every_language(phone, lang):
    p = phone(NON_MEMBER)
    assert p.dial().startswith("CON ")
    main = p.send(LANG_CHOICE[lang])
    for n, area in enumerate(AREAS, start=1):
        for m, _topic in enumerate(area.topics, start=1):
            p.send("3")
            p.send(str(n))
            first = p.send(str(m))
            last = _page_to_end(p)
            lines = last[4:].split("\n")
            option = "1 " + SMS_OPTION[lang]
            assert option in lines, last
            # never the option alone on a page: some of the topic's text comes with it
            assert [ln for ln in lines if ln != option and ln != NAV[lang]], last
            # back a page (when paged), then home: each lands where it should
            if last != first:
                assert p.send("0") != last
            assert p.send("00") == main
    # every other main-menu entry answers (savings for a non-member and the areas built later end kindly)
    for entry in ("1", "5"):
        p.dial()
        assert p.send(entry).startswith("END ")
    for entry in ("2", "4"):  # wages and wellbeing: menus of their own (tests/wages, tests/safety)
        p.dial()
        assert p.send(entry).startswith("CON ")
        p.send("00")
    p.dial()
    assert p.send("6").startswith("CON ")  # language choice
    assert p.send("2") .startswith("CON ")  # switches to Luganda and shows the main menu


def test_language_is_asked_once_and_remembered_for_a_non_member_without_storing_the_number(phone, runtime):
    p = phone(NON_MEMBER)
    assert "Choose language" in p.dial()
    assert "Haki" in p.send("3") or p.screen.startswith("CON ")
    again = phone(NON_MEMBER)
    assert "Choose language" not in again.dial()
    with runtime.sessions() as db:
        rows = db.scalars(select(LanguageChoice)).all()
        assert [r.language for r in rows] == ["sw"]
        assert all("700000009" not in r.phone_key for r in rows)


def test_member_language_is_saved_on_the_record(phone, runtime, member):
    m = member(language=None)
    p = phone(m.phone)
    p.dial()
    p.send("2")
    with runtime.sessions() as db:
        assert db.scalar(select(Member.language).where(Member.id == m.id)) == "lg"
    assert "Choose language" not in phone(m.phone).dial()


def test_leader_sees_leader_tools(phone, member):
    assert "7 Leader tools" in phone(member(role=Role.CHAIR).phone).dial()
    assert "Leader tools" not in phone(member(phone="+256700000011").phone).dial()


def test_back_home_paging_and_bad_input(phone):
    p = phone()
    p.dial()
    main = p.send("1")
    rights = p.send("3")
    assert p.send("9").startswith("CON Choose a number.")  # bad input: same screen, a reason
    assert "\n".join(rights.split("\n")[1:-1]) in p.screen
    p.send("1")
    topic = p.send("1")
    assert "98 More" in topic
    page2 = p.send("98")
    assert page2 != topic
    assert p.send("0") == topic  # back one page
    p.send("0")
    assert p.send("0") == rights
    assert p.send("00") == main


def test_a_star_typed_by_the_user_is_kept_in_the_input(phone):
    p = phone()
    p.dial()
    p.send("1")
    p.send("3")
    # The gateway joins inputs with '*': text is now "1*3*2*1". The last '*'-field is "1"
    # (a valid choice); the user typed "2*1", which is not.
    answer = p.send("2*1")
    assert answer.startswith("CON Choose a number.")
    assert p.send("2").startswith("CON Land and family")


def test_a_repeated_request_gets_the_same_answer_and_sends_once(phone, runtime):
    p = phone()
    p.dial()
    p.send("1")
    p.send("3")
    p.send("5")
    p.send("1")
    end = p.send("1")
    assert end.startswith("END ")
    assert p.repeat() == end
    assert p.repeat() == end
    with runtime.sessions() as db:
        assert db.scalar(select(func.count()).select_from(OutboxMessage)) == 1


def test_the_same_request_at_the_same_moment_is_answered_identically_and_done_once(app, runtime):
    warm = Phone(app.test_client(), NON_MEMBER)
    warm.dial()
    for value in ("1", "3", "5", "1"):
        warm.send(value)
    form = {"sessionId": warm.session_id, "serviceCode": "*384*44#", "phoneNumber": NON_MEMBER,
            "networkCode": "64110", "text": warm.text + "*1"}
    answers: list[str] = []
    barrier = threading.Barrier(4)

    def post() -> None:
        client = app.test_client()
        barrier.wait()
        answers.append(client.post("/ussd", data=form).get_data(as_text=True))

    threads = [threading.Thread(target=post) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(answers)) == 1 and answers[0].startswith("END ")
    with runtime.sessions() as db:
        assert db.scalar(select(func.count()).select_from(OutboxMessage)) == 1


def test_an_expired_session_starts_again_instead_of_failing(phone, runtime):
    p = phone()
    p.dial()
    p.send("1")
    p.send("3")
    ttl = runtime.redis.ttl(f"ml:ussd:session:{p.session_id}")
    assert 0 < ttl <= 180
    runtime.redis.delete(f"ml:ussd:session:{p.session_id}")  # as if the TTL ran out
    answer = p.send("1")
    assert answer.startswith("CON ")
    assert "cut off" in answer  # offered to continue where the caller was


def test_a_dropped_session_is_offered_back_and_resumes_on_the_same_screen(phone):
    p = phone()
    p.dial()
    p.send("1")
    p.send("3")
    p.send("2")
    topic = p.send("1")
    again = phone()
    offer = again.dial()
    assert "1 Continue" in offer and "2 Start again" in offer
    assert again.send("1") == topic
    fresh = phone()
    fresh.dial()
    assert fresh.send("2").startswith("CON Minerline")


def test_no_resume_offer_after_a_session_that_ended(phone):
    p = phone()
    p.dial()
    p.send("1")
    p.send("1")  # savings: coming soon, END
    assert phone().dial().startswith("CON Minerline")


def test_session_keeps_no_input_text_and_a_final_answer_only_briefly(phone, runtime):
    p = phone()
    p.dial()
    p.send("1")
    p.send("3")
    raw = runtime.redis.get(f"ml:ussd:session:{p.session_id}").decode()
    assert '"1*3"' not in raw and "1*3" not in raw
    p.send("5")
    p.send("1")
    p.send("1")
    assert 0 < runtime.redis.ttl(f"ml:ussd:session:{p.session_id}") <= 30


def test_each_hop_stays_within_three_queries_and_two_redis_round_trips(phone, runtime, member):
    m = member(language=None)
    p = phone(m.phone)
    p.dial()  # connects the session store's connection for this thread
    with counting(runtime) as budget:
        for value in ("1", "3", "1", "1", "98", "0", "00", "6", "3", "3", "5", "1", "1"):
            budget.reset()
            p.send(value)
            assert len(budget.statements) <= 3, (value, budget.statements)
            # the enqueue on the hop that sends an SMS is not counted
            limit = 2 if not p.screen.startswith("END ") else 2 + 10
            assert budget.trips <= limit, (value, budget.trips)
            assert budget.trips >= 2, (value, budget.trips)  # the counter sees the session store
            assert budget.handshakes == 0  # the store keeps its connection from hop to hop
        budget.reset()
        fresh = phone(m.phone)
        fresh.dial()
        assert len(budget.statements) <= 3 and budget.trips == 2, (budget.statements, budget.trips)
        assert any("FROM members" in sql for sql in budget.statements)  # the caller lookup is counted too


def test_bad_requests_get_a_reason(client):
    resp = client.post("/ussd", data={"text": ""})
    assert resp.status_code == 400
    assert "sessionId" in resp.get_data(as_text=True) and "phoneNumber" in resp.get_data(as_text=True)
