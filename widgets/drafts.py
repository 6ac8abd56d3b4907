"""What every widget's draft has: the flow it belongs to, the step the user is on, the outcome, its times."""

from datetime import datetime

from sqlalchemy import JSON, DateTime, String
from sqlalchemy.orm import Mapped, mapped_column

from bff.db import utcnow


class DraftMixin:
    """One draft per flow, whatever its sessions (renewal after renewal keeps the flow_id)."""

    flow_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    step: Mapped[str] = mapped_column(String(20))
    outcome: Mapped[dict | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
