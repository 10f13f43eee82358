"""Imports every table module so the metadata is complete (Alembic and tests rely on it)."""

from services.auth.models import ApiKey
from services.broadcasts.models import Broadcast, BroadcastAnswer
from services.checkins.models import (
    Checkin,
    CheckinAnswer,
    CheckinSchedule,
    CheckinTemplate,
    CohortHoliday,
    ReviewThread,
)
from services.circles.models import (
    Circle,
    CircleBlock,
    CircleMember,
    CircleParticipant,
    CircleRound,
    CircleSeries,
)
from services.delivery.models import Delivery
from services.metrics.models import KpiValue
from services.nudges.models import Nudge, NudgePolicy
from services.people.models import CoachAssignment, Cohort, Enrollment, Member, Workspace
from services.plans.models import Goal, Milestone, ProgressUpdate
from services.platform.models import SlackEvent
from services.privacy.models import AuditEvent

__all__ = [
    "ApiKey",
    "AuditEvent",
    "Broadcast",
    "BroadcastAnswer",
    "Checkin",
    "CheckinAnswer",
    "CheckinSchedule",
    "CheckinTemplate",
    "Circle",
    "CircleBlock",
    "CircleMember",
    "CircleParticipant",
    "CircleRound",
    "CircleSeries",
    "CoachAssignment",
    "Cohort",
    "CohortHoliday",
    "Delivery",
    "Enrollment",
    "Goal",
    "KpiValue",
    "Member",
    "Milestone",
    "Nudge",
    "NudgePolicy",
    "ProgressUpdate",
    "ReviewThread",
    "SlackEvent",
    "Workspace",
]
