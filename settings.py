"""Settings, read once from the environment.

This is the only module that reads ``os.environ``. Everything else receives a
``Settings`` instance (``create_app(settings)``, the worker, migrations).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Mapping
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent

__all__ = ["Settings", "ROOT"]

# Seconds between retries of an SMS that the gateway provably did not accept.
# They add up to about a day, after which the message is marked failed.
DEFAULT_SMS_RETRY_INTERVALS = (30, 60, 300, 900, 1800, 3600, 7200, 14400, 21600, 36000)


def _ints(value: str) -> tuple[int, ...]:
    """'1440, 120' -> (1440, 120)."""
    return tuple(int(part) for part in value.replace(" ", "").split(",") if part)


def _default_database_url() -> str:
    return f"sqlite:///{ROOT / 'instance' / 'minerline.db'}"


@dataclass(frozen=True)
class Settings:
    database_url: str = field(default_factory=_default_database_url)
    redis_url: str | None = None
    at_username: str = "sandbox"
    at_api_key: str | None = None
    at_sender_id: str | None = None
    at_api_url: str | None = None
    webhook_token: str | None = None
    secret_key: str = "dev-only-secret-change-me"
    port: int = 8000
    sms_reconcile_seconds: int = 600
    service_code: str = "*384*44#"
    # Dates people see (receipts, loans, meetings) are Uganda's, not UTC.
    timezone: str = "Africa/Kampala"
    # Broadcasts a cooperative's leaders may send from USSD in one day (the CLI is not bound by it).
    broadcast_daily_limit: int = 3
    # When meeting reminders go, in minutes before the meeting.
    meeting_reminder_minutes: tuple[int, ...] = (24 * 60, 2 * 60)
    # Values below are not part of the public environment contract; tests set them.
    sms_retry_intervals: tuple[int, ...] = DEFAULT_SMS_RETRY_INTERVALS
    sms_lease_seconds: int = 60
    sms_connect_timeout: float = 3.05
    sms_read_timeout: float = 9.05
    ussd_session_ttl: int = 180
    ussd_final_answer_ttl: int = 30
    ussd_resume_ttl: int = 300
    outbox_retention_days: int = 90
    sweep_interval_seconds: int = 15
    # Set for gunicorn (see gunicorn.conf.py): metrics are summed over its worker processes.
    prometheus_multiproc_dir: str | None = None
    locales_dir: Path = ROOT / "locales"
    testing: bool = False

    @property
    def embedded(self) -> bool:
        """True when no Redis is configured: one process runs everything."""
        return not self.redis_url

    @property
    def uses_local_sandbox(self) -> bool:
        """With no API key, SMS go to the local sandbox that the simulator reads."""
        return not self.at_api_key

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "Settings":
        env = os.environ if environ is None else environ

        def get(name: str) -> str | None:
            value = env.get(name)
            return value if value not in (None, "") else None

        values: dict = {}
        if get("DATABASE_URL"):
            values["database_url"] = get("DATABASE_URL")
        values["redis_url"] = get("REDIS_URL")
        if get("AT_USERNAME"):
            values["at_username"] = get("AT_USERNAME")
        values["at_api_key"] = get("AT_API_KEY")
        values["at_sender_id"] = get("AT_SENDER_ID")
        values["at_api_url"] = get("AT_API_URL")
        values["webhook_token"] = get("WEBHOOK_TOKEN")
        if get("SECRET_KEY"):
            values["secret_key"] = get("SECRET_KEY")
        if get("PORT"):
            values["port"] = int(get("PORT"))  # type: ignore[arg-type]
        if get("SMS_RECONCILE_SECONDS"):
            values["sms_reconcile_seconds"] = int(get("SMS_RECONCILE_SECONDS"))  # type: ignore[arg-type]
        if get("USSD_SERVICE_CODE"):
            values["service_code"] = get("USSD_SERVICE_CODE")
        values["prometheus_multiproc_dir"] = get("PROMETHEUS_MULTIPROC_DIR")
        if get("BROADCAST_DAILY_LIMIT"):
            values["broadcast_daily_limit"] = int(get("BROADCAST_DAILY_LIMIT"))  # type: ignore[arg-type]
        if get("MEETING_REMINDER_MINUTES"):
            values["meeting_reminder_minutes"] = _ints(get("MEETING_REMINDER_MINUTES"))  # type: ignore[arg-type]
        # Not part of the public contract: they let a test run a real worker process on short timings.
        if get("SMS_RETRY_INTERVALS"):
            values["sms_retry_intervals"] = _ints(get("SMS_RETRY_INTERVALS"))  # type: ignore[arg-type]
        for name, key, kind in (("SMS_LEASE_SECONDS", "sms_lease_seconds", int),
                                ("SMS_READ_TIMEOUT", "sms_read_timeout", float),
                                ("SWEEP_INTERVAL_SECONDS", "sweep_interval_seconds", int)):
            if get(name):
                values[key] = kind(get(name))  # type: ignore[arg-type]
        return cls(**values)

    def local_date(self, moment: datetime | None = None) -> date:
        """The date in Uganda at ``moment`` (default: now)."""
        moment = moment or datetime.now(UTC)
        return moment.astimezone(ZoneInfo(self.timezone)).date()

    def replace(self, **changes) -> "Settings":
        return replace(self, **changes)
