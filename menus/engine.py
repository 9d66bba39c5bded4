"""The pure USSD menu machine: (state, input) in, (screen text, new state, effects) out.

Nothing here touches Flask, Redis or a database. The edge (``ussd/``) loads who is
calling, calls :meth:`Engine.start` or :meth:`Engine.step`, then carries out the
effects after the screen is decided.

State is a small JSON-serialisable dict::

    {"lang": "en", "stack": [{"id": "main", "p": {}, "pg": 0}, ...], "auth": false}

``stack`` is the navigation history; its last frame is the screen on show and ``pg``
the page of it. ``0`` goes back one page or screen, ``00`` home, ``98`` to the next
page; anything else goes to the screen's ``handle``.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import date
from typing import Any, ClassVar, Iterable, Sequence

from gsm7 import gsm7_length

from .catalog import DEFAULT_LANGUAGE, N_, Catalogs, Translator

__all__ = [
    "LIMIT",
    "Caller",
    "Ctx",
    "View",
    "Screen",
    "Go",
    "Back",
    "Home",
    "Stay",
    "Finish",
    "ResumeSaved",
    "SendTopicSms",
    "SetLanguage",
    "Authenticated",
    "Result",
    "Engine",
    "BACK",
    "HOME",
    "MORE",
]

LIMIT = 160  # characters per screen, including the CON/END prefix
BACK, HOME, MORE = "0", "00", "98"
# Room kept on every page for one short line: a re-prompt reason or the navigation hint.
RESERVE = 25

MSG_INVALID = N_("Not valid. Try again.")
MSG_MORE = N_("98 More")
MSG_NAV = N_("0 Back 00 Home")
MSG_NAV_HOME = N_("00 Home")


@dataclass(frozen=True)
class Caller:
    """What the edge knows about the person dialling. No phone number."""

    is_member: bool = False
    member_id: int | None = None
    name: str | None = None
    role: str | None = None
    language: str | None = None

    @property
    def is_leader(self) -> bool:
        return self.role in ("chair", "secretary", "treasurer")


@dataclass(frozen=True)
class Ctx:
    caller: Caller
    lang: str
    t: Translator
    # The edge's implementation of the areas' data ports (see each area's Protocol), or None.
    data: Any = None
    # The PIN was given in this session (cleared when a dropped session is resumed).
    authed: bool = False
    # Today, as the edge's clock says (dates on loans and reports).
    today: date = field(default_factory=date.today)


@dataclass(frozen=True)
class View:
    """What a screen shows. ``text`` may be long: the engine pages it."""

    text: str
    options: Sequence[tuple[str, str]] = ()
    end: bool = False


# --- effects: data that the edge carries out after the screen is decided ---


@dataclass(frozen=True)
class SendTopicSms:
    topic: str
    lang: str


@dataclass(frozen=True)
class SetLanguage:
    lang: str


@dataclass(frozen=True)
class Authenticated:
    """The caller gave the right PIN: later screens in this session may show balances."""


# --- outcomes of a screen's handle() ---


@dataclass(frozen=True)
class Go:
    screen: str
    params: dict[str, Any] = field(default_factory=dict)
    effects: tuple = ()
    pop: int = 0  # screens to take off first (e.g. 1: replace this one, so Back skips it)
    notice: str | None = None  # msgid shown once above the new screen
    notice_params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Back:
    effects: tuple = ()


@dataclass(frozen=True)
class Home:
    effects: tuple = ()
    lang: str | None = None  # switch the session's language first


@dataclass(frozen=True)
class Stay:
    reason: str = MSG_INVALID  # msgid shown above the same screen
    params: dict[str, Any] = field(default_factory=dict)
    effects: tuple = ()


@dataclass(frozen=True)
class Finish:
    """End the session with a short message (msgid, formatted with ``params``)."""

    message: str
    params: dict[str, Any] = field(default_factory=dict)
    effects: tuple = ()


@dataclass(frozen=True)
class ResumeSaved:
    """Go back to the screens saved from a dropped session."""


Outcome = Go | Back | Home | Stay | Finish | ResumeSaved


class Screen:
    """One screen. Subclasses set ``id`` and implement ``view`` and ``handle``."""

    id: ClassVar[str]
    # Never offered in "continue where you left off" (the safety flow).
    sensitive: ClassVar[bool] = False
    # Needs the PIN again when reached by resuming a dropped session.
    protected: ClassVar[bool] = False

    def view(self, ctx: Ctx, params: dict[str, Any]) -> View:
        raise NotImplementedError

    def handle(self, ctx: Ctx, params: dict[str, Any], choice: str) -> Outcome:
        return Stay()

    def enter(self, ctx: Ctx, params: dict[str, Any]) -> "Outcome | None":
        """Called when the screen is about to be shown by Go: return an outcome to go elsewhere
        instead (a gate that sends the caller to the PIN, or ends a session that may not pass)."""
        return None


@dataclass
class Result:
    text: str  # the whole answer, "CON ..." or "END ..."
    state: dict[str, Any]
    effects: list = field(default_factory=list)
    screen: str = ""
    sensitive: bool = False

    @property
    def end(self) -> bool:
        return self.text.startswith("END ")


def _copy_state(state: dict[str, Any]) -> dict[str, Any]:
    """A copy the engine may change: the state dict, its stack and frames (it never changes a
    frame's params in place, so those are shared). Much cheaper than deepcopy on every hop."""
    copied = dict(state)
    copied["stack"] = [dict(frame) for frame in state["stack"]]
    if "saved" in state:
        copied["saved"] = [dict(frame) for frame in state["saved"]]
    return copied


def _frame(screen: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"id": screen, "p": dict(params or {}), "pg": 0}


class Engine:
    """Runs screens. ``home`` is the main menu, ``first`` the language choice on first use."""

    def __init__(
        self,
        screens: Iterable[Screen],
        catalogs: Catalogs,
        data: Any = None,
        home: str = "main",
        first: str = "lang.first",
        resume: str = "resume",
    ) -> None:
        self.screens: dict[str, Screen] = {}
        for screen in screens:
            if screen.id in self.screens:
                raise ValueError(f"two screens are called {screen.id!r}")
            self.screens[screen.id] = screen
        for needed in (home, first, resume):
            if needed not in self.screens:
                raise ValueError(f"no screen {needed!r}")
        self.catalogs = catalogs
        self.data = data
        self.today: date | None = None
        self.home, self.first, self.resume = home, first, resume

    # --- public API ---

    def with_data(self, data: Any, today: date | None = None) -> "Engine":
        """The same screens with the edge's data ports (and clock) for one hop."""
        clone = object.__new__(Engine)  # copy.copy's generic protocol costs more than the hop's step
        clone.__dict__.update(self.__dict__)
        clone.data = data
        clone.today = today
        return clone

    def start(self, caller: Caller, saved: dict[str, Any] | None = None) -> Result:
        """First hop of a session. ``saved`` is a dropped session's state to offer back."""
        lang = caller.language
        state: dict[str, Any] = {"lang": lang, "stack": [], "auth": False}
        if saved and saved.get("stack") and not self._is_sensitive(saved) and len(saved["stack"]) > 1:
            state["saved"] = saved["stack"]
            state["lang"] = lang or saved.get("lang")
            state["stack"] = [_frame(self.resume)]
        else:
            state["stack"] = [_frame(self._root(state))]
        return self._render(state, caller)

    def step(self, state: dict[str, Any], text: str, caller: Caller) -> Result:
        """Apply one input to the state and return the next screen."""
        state = _copy_state(state)
        choice = text.strip()
        frame = state["stack"][-1]
        screen = self.screens[frame["id"]]
        ctx = self._ctx(state, caller)

        if choice == HOME:
            state["stack"] = [_frame(self._root(state))]
            state.pop("saved", None)
            return self._render(state, caller)
        if choice == BACK:
            if frame["pg"] > 0:
                frame["pg"] -= 1
            elif len(state["stack"]) > 1:
                state["stack"].pop()
            return self._render(state, caller)
        if choice == MORE and frame["pg"] < len(self._pages(screen.view(ctx, frame["p"]), ctx.t,
                                                           self._keeps(screen, state))) - 1:
            frame["pg"] += 1
            return self._render(state, caller)

        outcome = screen.handle(ctx, frame["p"], choice)
        return self._apply(state, caller, outcome)

    def render(self, state: dict[str, Any], caller: Caller) -> Result:
        return self._render(_copy_state(state), caller)

    # --- internals ---

    def _root(self, state: dict[str, Any]) -> str:
        return self.home if state.get("lang") else self.first

    def _ctx(self, state: dict[str, Any], caller: Caller) -> Ctx:
        lang = state.get("lang") or DEFAULT_LANGUAGE
        return Ctx(caller=caller, lang=lang, t=self.catalogs.translator(lang), data=self.data,
                   authed=bool(state.get("auth")), today=self.today or date.today())

    def _is_sensitive(self, state: dict[str, Any]) -> bool:
        return any(self.screens[f["id"]].sensitive for f in state.get("stack", []) if f["id"] in self.screens)

    def _apply(self, state: dict[str, Any], caller: Caller, outcome: Outcome, depth: int = 0) -> Result:
        effects: list = list(getattr(outcome, "effects", ()))
        for effect in effects:
            if isinstance(effect, SetLanguage):
                state["lang"] = effect.lang
            elif isinstance(effect, Authenticated):
                state["auth"] = True
        notice: tuple[str, dict[str, Any]] | None = None
        if isinstance(outcome, Stay):
            result = self._render(state, caller, error=(outcome.reason, outcome.params))
            result.effects = effects + result.effects
            return result
        if isinstance(outcome, Go):
            for _ in range(min(outcome.pop, len(state["stack"]) - 1)):
                state["stack"].pop()
            target = self.screens[outcome.screen]
            redirect = target.enter(self._ctx(state, caller), dict(outcome.params)) if depth < 5 else None
            if redirect is not None:
                result = self._apply(state, caller, redirect, depth + 1)
                result.effects = effects + result.effects
                return result
            state["stack"].append(_frame(outcome.screen, outcome.params))
            if outcome.notice:
                notice = (outcome.notice, outcome.notice_params)
        elif isinstance(outcome, Back):
            if len(state["stack"]) > 1:
                state["stack"].pop()
        elif isinstance(outcome, Home):
            if outcome.lang:
                state["lang"] = outcome.lang
            state["stack"] = [_frame(self._root(state))]
        elif isinstance(outcome, ResumeSaved):
            stack = state.pop("saved", None) or [_frame(self._root(state))]
            state["auth"] = False  # a PIN-protected screen asks for the PIN again
            for frame in stack:
                frame["pg"] = 0
            guarded = next((i for i, f in enumerate(stack) if self.screens[f["id"]].protected), None)
            if guarded is not None:
                # Back through the gate: the screens before the first protected one, then its gate.
                state["stack"] = stack[:guarded]
                gate = getattr(self.screens[stack[guarded]["id"]], "gate", stack[guarded]["id"])
                result = self._apply(state, caller, Go(gate), depth + 1)
                result.effects = effects + result.effects
                return result
            state["stack"] = stack
        elif isinstance(outcome, Finish):
            t = self._ctx(state, caller).t
            body = t(outcome.message).format(**outcome.params) if outcome.params else t(outcome.message)
            top = state["stack"][-1]["id"]
            return Result(
                text="END " + body,
                state=state,
                effects=effects,
                screen=top,
                sensitive=self._is_sensitive(state),
            )
        result = self._render(state, caller, error=notice)
        result.effects = effects + result.effects
        return result

    def _render(self, state: dict[str, Any], caller: Caller,
                error: tuple[str, dict[str, Any]] | str | None = None) -> Result:
        frame = state["stack"][-1]
        screen = self.screens[frame["id"]]
        ctx = self._ctx(state, caller)
        view = screen.view(ctx, frame["p"])
        sensitive = self._is_sensitive(state)
        if view.end:
            return Result("END " + view.text, state, [], screen.id, sensitive)
        pages = self._pages(view, ctx.t, keep=not (screen.protected or sensitive))
        page_no = min(frame["pg"], len(pages) - 1)
        frame["pg"] = page_no
        body = pages[page_no]
        last = page_no == len(pages) - 1
        if not last:
            body += "\n" + ctx.t(MSG_MORE)
        if error:
            message, values = (error, {}) if isinstance(error, str) else error
            line = ctx.t(message).format(**values) if values else ctx.t(message)
            body = line + "\n" + body
        else:
            hint = ctx.t(MSG_NAV if len(state["stack"]) > 1 else MSG_NAV_HOME)
            if len(state["stack"]) > 1 or frame["id"] != self._root(state):
                if gsm7_length("CON " + body + "\n" + hint) <= LIMIT:
                    body += "\n" + hint
        return Result("CON " + body, state, [], screen.id, sensitive)

    def _pages(self, view: View, t: Translator, keep: bool = True) -> tuple[str, ...]:
        """Split a view into page bodies that fit with the prefix, '98 More' and one reserved line.

        ``keep``: the split may be kept for later hops. Not for the safety flow or screens behind
        the PIN, so that no process holds on to what those showed.
        """
        split = _paginate if keep else _paginate.__wrapped__
        return split(view.text, tuple((key, label) for key, label in view.options), t(MSG_MORE))

    def _keeps(self, screen: Screen, state: dict[str, Any]) -> bool:
        return not (screen.protected or self._is_sensitive(state))


@functools.lru_cache(maxsize=1024)
def _paginate(text: str, options: tuple[tuple[str, str], ...], more_label: str) -> tuple[str, ...]:
    """The pages of a text and its options: a pure function of them, and most screens show the
    same catalog text on every hop, so each is split once per process and looked up after."""
    lines: list[tuple[str, bool]] = [(ln, True) for ln in text.split("\n")] if text else []
    # Option lines are never split across pages: "1" and its label stay together.
    lines += [(f"{key} {label}", False) for key, label in options]
    more = 1 + gsm7_length(more_label)
    last_cap = LIMIT - 4 - RESERVE
    cap = last_cap - more
    pages: list[str] = []
    rest = lines
    while True:
        whole = "\n".join(line for line, _ in rest)
        if gsm7_length(whole) <= last_cap:
            pages.append(whole)
            return tuple(_balance(pages, [line for line, splittable in lines if not splittable], last_cap))
        page, rest = _fill(rest, cap)
        pages.append(page)


def _balance(pages: list[str], options: list[str], cap: int) -> list[str]:
    """Never leave the options alone on the last page: bring the end of the text with them."""
    if len(pages) < 2 or not options or pages[-1] != "\n".join(options):
        return pages
    words = pages[-2].split(" ")
    moved: list[str] = []
    while len(words) > 1 and len(moved) < len(words):
        candidate = " ".join([words[-1], *moved]) + "\n" + pages[-1]
        if gsm7_length(candidate) > cap:
            break
        moved.insert(0, words.pop())
    if moved:
        pages[-2] = " ".join(words)
        pages[-1] = " ".join(moved) + "\n" + pages[-1]
    return pages


def _fill(lines: list[tuple[str, bool]], cap: int) -> tuple[str, list[tuple[str, bool]]]:
    """Take whole lines, then words of a splittable line, up to ``cap`` characters.

    Returns the page and the lines left over.
    """
    taken: list[str] = []
    used = 0
    for i, (line, splittable) in enumerate(lines):
        sep = 1 if taken else 0
        size = gsm7_length(line)
        if used + sep + size <= cap:
            taken.append(line)
            used += sep + size
            continue
        if not splittable and taken:
            return "\n".join(taken), lines[i:]
        # Split this line at a word boundary; keep at least one word so paging always moves on.
        words = line.split(" ")
        head: list[str] = []
        width = used + sep
        for word in words:
            extra = gsm7_length(word) + (1 if head else 0)
            if width + extra > cap:
                break
            head.append(word)
            width += extra
        if not head and not taken:
            head = [words[0][: max(1, cap)]]
            remainder = [w for w in [words[0][max(1, cap):]] + words[1:] if w]
        else:
            remainder = words[len(head):]
        if head:
            taken.append(" ".join(head))
        rest = ([(" ".join(remainder), splittable)] if remainder else []) + lines[i + 1 :]
        return "\n".join(taken), rest
    return "\n".join(taken), []
