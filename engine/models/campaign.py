"""Campaigns: the school year a process owner opens for hosting projects, and late reopenings."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, DateTime, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from engine.db import Base


class Campaign(Base):
    """A campaign of hosting projects for one school year of missions."""

    __tablename__ = "campaign"

    id: Mapped[int] = mapped_column(primary_key=True)
    school_year: Mapped[str] = mapped_column(String(9), unique=True)
    # School year of the pupil counts the campaign uses (the quota and the school file check read it).
    # The school year whose pupil count the campaign requires; None: each school's latest known count.
    pupil_count_year: Mapped[str | None] = mapped_column(String(9))
    submission_deadline: Mapped[date] = mapped_column(Date)
    earliest_start: Mapped[date] = mapped_column(Date)
    latest_start: Mapped[date] = mapped_column(Date)
    # Service Civique agrément number printed on every contract of the campaign; none is generated without it.
    agreement_number: Mapped[str | None] = mapped_column(String(40))
    opened_at: Mapped[datetime] = mapped_column(DateTime)
    opened_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime)
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))

    @property
    def is_open(self) -> bool:
        """Whether the campaign has not been closed."""
        return self.closed_at is None


class CampaignReopening(Base):
    """A gestionnaire lets one school submit its project after the campaign's deadline."""

    __tablename__ = "campaign_reopening"
    __table_args__ = (UniqueConstraint("campaign_id", "establishment_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"), index=True)
    establishment_id: Mapped[int] = mapped_column(ForeignKey("establishment.id", ondelete="CASCADE"))
    until: Mapped[date] = mapped_column(Date)
    reason: Mapped[str | None] = mapped_column(String(300))
    granted_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    granted_at: Mapped[datetime] = mapped_column(DateTime)
