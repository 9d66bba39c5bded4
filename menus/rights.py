"""Rights information: areas, their topics, and "send me this by SMS".

Topic text is English source text marked with ``N_``; the catalogs in ``locales/``
translate it. Only facts marked [V] or [S] in ``shared/reference/uganda-domain.md``
belong here, never [NV] or [C].
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

from .catalog import N_, Translator
from .common import Item, MenuScreen
from .engine import Ctx, Finish, Outcome, Screen, SendTopicSms, Stay, View

__all__ = ["Topic", "Area", "AREAS", "TOPICS", "topic_sms_text", "SCREENS"]


@dataclass(frozen=True)
class Topic:
    id: str
    title: str  # msgid
    body: str  # msgid; may be long, the engine pages it


@dataclass(frozen=True)
class Area:
    id: str
    title: str  # msgid
    topics: tuple[Topic, ...]


AREAS: tuple[Area, ...] = (
    Area(
        "work",
        N_("Work and pay"),
        (
            Topic(
                "work.casual",
                N_("Casual work and pay"),
                N_(
                    "Work for pay is a contract, even if it was only spoken and nothing was written. "
                    "A casual worker is paid by the day or by the hour, and the Employment Act "
                    "covers casual workers too. Ask for your job, pay and hours in writing, in a "
                    "language you understand. Uganda has no minimum wage that is enforced, so "
                    "compare your pay with what others doing the same work earn. Women should get "
                    "the same pay as men for work of equal value."
                ),
            ),
            Topic(
                "work.maternity",
                N_("Having a baby"),
                N_(
                    "The law says a woman worker gets 60 days of maternity leave on full pay. "
                    "At least 4 weeks of it must be after the birth. This is also true after a "
                    "miscarriage. Your employer may ask for a note from a doctor or midwife. "
                    "A father gets 4 working days of paternity leave on full pay. Tell your "
                    "employer early, so you can plan your leave together."
                ),
            ),
            Topic(
                "work.hours",
                N_("Working hours"),
                N_(
                    "The law says normal work is at most 48 hours a week. Even if you agree to "
                    "more, it must not be more than 10 hours a day or 56 hours a week. If you "
                    "work 8 hours or more in a day, you should get a break of 30 minutes. "
                    "Overtime should be paid at least 1.5 times the normal pay, and 2 times on "
                    "public holidays. No one should be forced to work overtime."
                ),
            ),
            Topic(
                "work.harassment",
                N_("Harassment at work"),
                N_(
                    "The law says no one may treat you unfairly at work because you are a woman, "
                    "or because of your religion, HIV status or disability. Sexual harassment by "
                    "your employer, or by someone acting for them such as a supervisor, is against "
                    "the law. It includes asking for sex in return for a job or pay, and threats "
                    "to harm you or take your job if you say no. You can complain to the district "
                    "labour officer."
                ),
            ),
            Topic(
                "work.children",
                N_("Children and work"),
                N_(
                    "The law says children under 18 must not do dangerous work, such as work "
                    "underground, in water or at heights. So no child should work in a pit. The "
                    "lowest age for a job is 16. A child under 14 may only do light work, with an "
                    "adult watching, for at most 14 hours a week. A child of 15 to 18 who is out of "
                    "school may work at most 7 hours a day and 35 hours a week, and never between "
                    "7 pm and 7 am."
                ),
            ),
        ),
    ),
    Area(
        "family",
        N_("Land and family"),
        (
            Topic(
                "family.land",
                N_("Family land"),
                N_(
                    "Family land is land where your family lives or that feeds your family. The "
                    "law says a husband or wife must give written consent before the other sells, "
                    "mortgages, leases or gives away family land. Without it, the deal is not "
                    "valid. You can protect your share by putting a caveat on the land; a legal "
                    "aid office can help you. Partners who live together without marriage may not "
                    "be protected in the same way."
                ),
            ),
            Topic(
                "family.inherit",
                N_("When someone dies"),
                N_(
                    "Since 2022, if a person dies without a will, the law says the home is for the "
                    "spouse and children to live in. The rest is shared: 20% to the spouse, 75% to "
                    "the children, 4% to relatives who depended on the person, and 1% to the heir. "
                    "The heir can be a woman. All children count, also those born outside "
                    "marriage. Chasing a spouse or child out of the home is a crime, with up to 7 "
                    "years in prison. Different rules may apply to Muslims, and partners who were "
                    "not married may get no share."
                ),
            ),
            Topic(
                "family.violence",
                N_("Violence at home"),
                N_(
                    "The Domestic Violence Act protects you. Violence at home includes beating, "
                    "forced sex, insults, threats and frightening you. It also includes taking "
                    "your money, land or property, or keeping them from you. You can complain to "
                    "the local council court, the police, or a magistrate or family court. Call "
                    "116 for free, at any time, to talk to someone who can help."
                ),
            ),
        ),
    ),
    Area(
        "safety",
        N_("Health and safety"),
        (
            Topic(
                "safety.mercury",
                N_("Mercury and health"),
                N_(
                    "Mercury can harm your nerves, kidneys and lungs, even in small amounts. Babies "
                    "before birth and young children are most at risk. When amalgam is burned, "
                    "the mercury becomes a vapour that people breathe in. Keep children and "
                    "pregnant women away from mercury and from burning amalgam. For dangerous "
                    "work, employers should give protective equipment, such as gloves and masks, "
                    "free of charge."
                ),
            ),
            Topic(
                "safety.pits",
                N_("Safe pits"),
                N_(
                    "Pits can collapse and kill miners. The danger is greatest in the rainy "
                    "season, when the soil is soaked. Do not light fires in a pit: fire uses up "
                    "the air, and miners have died because they could not breathe. No one under "
                    "18 should work underground. Employers should keep workers safe and give "
                    "protective equipment, such as helmets and gumboots, free of charge."
                ),
            ),
        ),
    ),
    Area(
        "money",
        N_("Money and groups"),
        (
            Topic(
                "money.vsla",
                N_("Savings groups"),
                N_(
                    "In a savings group, members meet every week. At each meeting you buy 1 to 5 "
                    "shares, at a share price the group fixes for the whole cycle. You can borrow "
                    "up to about 3 times your savings. The group sets the service charge on loans. "
                    "The social fund helps members in an emergency. At the end of the cycle the "
                    "money is shared out by how much each member saved. The box has 3 locks, and "
                    "all money is handled in the meeting."
                ),
            ),
            Topic(
                "money.coops",
                N_("Groups and elections"),
                N_(
                    "Under the Mining and Minerals Act 2022, a cooperative of Ugandan citizens can "
                    "apply for an artisanal mining licence. A savings group elects a committee of "
                    "5 every year. Many groups agree that 3 of the 5 should be women. You can stand "
                    "for election. Vote in the open meeting, and ask to see the group's records."
                ),
            ),
        ),
    ),
    Area(
        "help",
        N_("Where to get help"),
        (
            Topic(
                "help.gbv",
                N_("Help with violence"),
                N_(
                    "Sauti 116 is a helpline for violence and child abuse. Call 116: it is free, "
                    "you need no airtime, and it works on all networks, 24 hours a day. You can "
                    "report violence against you or abuse of a child, and ask to speak in your own "
                    "language. In an emergency, call the police on 112 from a mobile phone."
                ),
            ),
            Topic(
                "help.legal",
                N_("Free legal help"),
                N_(
                    "FIDA-Uganda helps women with the law for free or at low cost, for example "
                    "with violence at home, land, inheritance and child support. Call 0800 111 511, "
                    "it is toll free. Justice Centres also give free legal advice. There are "
                    "centres in Mubende, Tororo, Jinja, Mbale, Masaka and other towns."
                ),
            ),
            Topic(
                "help.labour",
                N_("The labour officer"),
                N_(
                    "If you are not paid your wages, or you face sexual harassment or unfair "
                    "treatment at work, you can complain to the district labour officer. Before "
                    "you go, write down or remember what happened, the dates, how much you are "
                    "owed and who saw it. FIDA-Uganda or a Justice Centre can also give you free "
                    "legal advice."
                ),
            ),
        ),
    ),
)

TOPICS: dict[str, Topic] = {topic.id: topic for area in AREAS for topic in area.topics}
_AREAS: dict[str, Area] = {area.id: area for area in AREAS}

MSG_SMS_OPTION = N_("Send me this by SMS")
MSG_SMS_QUEUED = N_("We are sending this to you by SMS. Thank you.")


def topic_sms_text(topic_id: str, t: Translator) -> str:
    """The whole topic as one SMS text (it may take several parts)."""
    topic = TOPICS[topic_id]
    return f"{t(topic.title)}: {t(topic.body)}"


class RightsMenu(MenuScreen):
    id = "rights"
    title = N_("My rights")

    def items(self, ctx: Ctx, params: dict[str, Any]) -> Sequence[Item]:
        return [Item(area.title, "rights.area", {"area": area.id}) for area in AREAS]


class RightsArea(MenuScreen):
    id = "rights.area"

    def heading(self, ctx: Ctx, params: dict[str, Any]) -> str:
        return ctx.t(_AREAS[params["area"]].title)

    def items(self, ctx: Ctx, params: dict[str, Any]) -> Sequence[Item]:
        area = _AREAS[params["area"]]
        return [Item(topic.title, "rights.topic", {"topic": topic.id}) for topic in area.topics]


class RightsTopic(Screen):
    id = "rights.topic"

    def view(self, ctx: Ctx, params: dict[str, Any]) -> View:
        topic = TOPICS[params["topic"]]
        return View(text=ctx.t(topic.body), options=[("1", ctx.t(MSG_SMS_OPTION))])

    def handle(self, ctx: Ctx, params: dict[str, Any], choice: str) -> Outcome:
        if choice == "1":
            return Finish(MSG_SMS_QUEUED, effects=(SendTopicSms(params["topic"], ctx.lang),))
        return Stay()


SCREENS = [RightsMenu(), RightsArea(), RightsTopic()]
