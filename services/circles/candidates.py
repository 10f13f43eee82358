"""What the circle matcher takes in: the people of one round and the series' mixing rules."""

from __future__ import annotations

from dataclasses import dataclass, field

from services.errors import Invalid

MIN_GROUP_SIZE = 2
MAX_GROUP_SIZE = 6
DEFAULT_MAX_SPREAD_MINUTES = 6 * 60


@dataclass(frozen=True, slots=True)
class Candidate:
    """One person who could join a circle this round, as the matcher sees them."""

    key: str
    team: str | None = None
    level: str | None = None
    region: str | None = None
    utc_offset_minutes: int = 0
    competencies: frozenset[str] = frozenset()
    opted_out: bool = False
    paused: bool = False

    @property
    def eligible(self) -> bool:
        """Whether this person may be placed in a circle at all."""
        return not (self.opted_out or self.paused)


@dataclass(frozen=True, slots=True)
class Weights:
    """Penalties per pair inside a circle; the matcher minimises their sum."""

    # Charged once per earlier meeting inside the history window, doubled for last
    # round and fading linearly to about 1x for the oldest round in the window. It
    # dwarfs the others so a repeat is only ever chosen when the roster forces one.
    repeat: float = 100.0
    same_team: float = 4.0
    same_level: float = 1.0
    # A bonus (subtracted) per competency two members share, used only with affinity on.
    shared_competency: float = 1.0

    def __post_init__(self) -> None:
        if min(self.repeat, self.same_team, self.same_level, self.shared_competency) < 0:
            raise Invalid("circle weights must not be negative", field="weights")


@dataclass(frozen=True, slots=True)
class MatchSettings:
    """A circle series' rules: group size, timezone window, memory and mixing weights."""

    size: int = 4
    max_spread_minutes: int = DEFAULT_MAX_SPREAD_MINUTES
    history_window: int = 6
    weights: Weights = field(default_factory=Weights)
    affinity: bool = False

    def __post_init__(self) -> None:
        if not MIN_GROUP_SIZE <= self.size <= MAX_GROUP_SIZE:
            raise Invalid(
                f"group size must be between {MIN_GROUP_SIZE} and {MAX_GROUP_SIZE}",
                field="size",
            )
        if not 0 <= self.max_spread_minutes <= 24 * 60:
            raise Invalid(
                "the timezone spread must be between 0 and 1440 minutes",
                field="max_spread_minutes",
            )
        if self.history_window < 0:
            raise Invalid("the history window must not be negative", field="history_window")
