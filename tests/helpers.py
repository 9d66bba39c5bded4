"""Test helpers: a USSD phone that talks to /ussd like the gateway, and a burst worker."""

from __future__ import annotations

import uuid

from gsm7 import gsm7_length, is_gsm7
from sms.runtime import SMS_QUEUE, Runtime
from sms.workers import MinerlineSimpleWorker


class Phone:
    """Drives one USSD session through POST /ussd, checking every answer as the gateway would."""

    def __init__(self, client, number: str, service_code: str = "*384*44#", token: str | None = None) -> None:
        self.client = client
        self.number = number
        self.service_code = service_code
        self.token = token
        self.session_id = ""
        self.inputs: list[str] = []
        self.screen = ""

    @property
    def text(self) -> str:
        return "*".join(self.inputs)

    def dial(self) -> str:
        self.session_id = "ATUid_" + uuid.uuid4().hex
        self.inputs = []
        return self._post()

    def send(self, value: str) -> str:
        assert self.screen.startswith("CON "), f"cannot answer a finished session: {self.screen!r}"
        self.inputs.append(value)
        return self._post()

    def repeat(self) -> str:
        """The gateway sends the same sessionId and text again."""
        return self._post()

    def _post(self) -> str:
        url = "/ussd" + (f"?token={self.token}" if self.token else "")
        resp = self.client.post(url, data={
            "sessionId": self.session_id, "serviceCode": self.service_code, "phoneNumber": self.number,
            "networkCode": "64110", "text": self.text,
        })
        body = resp.get_data(as_text=True)
        resp.close()  # as a WSGI server does once the answer is written: the hop reads its last replies
        assert resp.status_code == 200, resp.data
        assert resp.mimetype == "text/plain"
        check_screen(body)
        self.screen = body
        return body


def check_screen(body: str) -> None:
    assert body.startswith("CON ") or body.startswith("END "), body
    assert gsm7_length(body) <= 160, f"{gsm7_length(body)} characters: {body!r}"
    assert is_gsm7(body), f"not GSM-7: {body!r}"


def run_jobs(runtime: Runtime, queues: tuple[str, ...] = (SMS_QUEUE,)) -> int:
    """Work every queued job in this process; returns how many ran."""
    worker = MinerlineSimpleWorker([runtime.queue(q) for q in queues], connection=runtime.redis,
                                   runtime=runtime)
    ran = 0
    while worker.work(burst=True):
        ran += 1
    return ran
