"""Cooperatives, their sites, and members."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, Enum, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, UtcDateTime, utcnow

__all__ = ["Cooperative", "Site", "Member", "Gender", "Role", "LEADER_ROLES", "LANGUAGES"]

LANGUAGES = ("en", "lg", "sw")


class Gender(str, enum.Enum):
    FEMALE = "female"
    MALE = "male"
    OTHER = "other"


class Role(str, enum.Enum):
    MEMBER = "member"
    CHAIR = "chair"
    SECRETARY = "secretary"
    TREASURER = "treasurer"


LEADER_ROLES = frozenset({Role.CHAIR, Role.SECRETARY, Role.TREASURER})


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    # Store the values (lower case), not the Python names, and as plain strings so
    # adding a value later needs no PostgreSQL enum migration.
    return Enum(cls, name=name, native_enum=False, length=16, values_callable=lambda e: [m.value for m in e])


class Cooperative(Base):
    __tablename__ = "cooperatives"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    # Lower case, single spaces: what names are matched on.
    name_key: Mapped[str] = mapped_column(String(120), unique=True)
    district: Mapped[str | None] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)

    sites: Mapped[list["Site"]] = relationship(back_populates="cooperative")

    @staticmethod
    def key_for(name: str) -> str:
        return " ".join(name.split()).casefold()


class Site(Base):
    __tablename__ = "sites"
    __table_args__ = (UniqueConstraint("cooperative_id", "name_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cooperative_id: Mapped[int] = mapped_column(ForeignKey("cooperatives.id"))
    name: Mapped[str] = mapped_column(String(120))
    name_key: Mapped[str] = mapped_column(String(120))
    district: Mapped[str | None] = mapped_column(String(80))

    cooperative: Mapped[Cooperative] = relationship(back_populates="sites")


class Member(Base):
    __tablename__ = "members"

    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str] = mapped_column(String(16), unique=True)  # E.164
    name: Mapped[str] = mapped_column(String(120))
    gender: Mapped[Gender] = mapped_column(_enum(Gender, "gender"))
    role: Mapped[Role] = mapped_column(_enum(Role, "member_role"), default=Role.MEMBER)
    # None until the member picks one on first use.
    language: Mapped[str | None] = mapped_column(String(2))
    cooperative_id: Mapped[int] = mapped_column(ForeignKey("cooperatives.id"), index=True)
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id"))
    district: Mapped[str | None] = mapped_column(String(80))
    opted_out: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, onupdate=utcnow)

    cooperative: Mapped[Cooperative] = relationship()
    site: Mapped[Site | None] = relationship()

    @property
    def is_leader(self) -> bool:
        return self.role in LEADER_ROLES
