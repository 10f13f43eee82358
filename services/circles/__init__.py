"""Peer circles: small cross-team groups that meet each round."""

from services.circles.candidates import Candidate, MatchSettings, Weights
from services.circles.matcher import Circle, MatchResult, RoundFigures, Unmatched, form_circles
from services.circles.timezones import utc_offset_minutes

__all__ = [
    "Candidate",
    "Circle",
    "MatchResult",
    "MatchSettings",
    "RoundFigures",
    "Unmatched",
    "Weights",
    "form_circles",
    "utc_offset_minutes",
]
