"""Imports every table module so the metadata is complete (Alembic and tests rely on it)."""

from services.auth.models import ApiKey
from services.delivery.models import Delivery
from services.people.models import CoachAssignment, Cohort, Enrollment, Member, Workspace
from services.plans.models import Goal, Milestone, ProgressUpdate
from services.platform.models import SlackEvent
from services.privacy.models import AuditEvent

__all__ = [
    "ApiKey",
    "AuditEvent",
    "CoachAssignment",
    "Cohort",
    "Delivery",
    "Enrollment",
    "Goal",
    "Member",
    "Milestone",
    "ProgressUpdate",
    "SlackEvent",
    "Workspace",
]
