"""k-anonymity: which figures may be shown, so that no group smaller than k can be seen
directly or worked out from what is shown.

Every figure is computed over a *population*: the leaders whose rows make it (those sent
a check-in that week, those in a circle that week, those enrolled, ...). The rules:

1. **Minimum size.** A figure whose population has fewer than k leaders is suppressed.
   A cohort with fewer than k leaders shows nothing but its own size.
2. **No subtraction between a whole and its parts.** Where the parts of a whole are shown
   next to the whole (each group of a breakdown by team, level or region, within the
   cohort), the parts that are suppressed must together still hold at least k leaders;
   otherwise the whole minus the shown parts would give the hidden ones away. So when
   rule 1 hides any part, the smallest shown parts are hidden too ("complementary
   suppression") until the hidden parts together reach k.
3. **Totals add up only what is shown.** A period's total is the sum of the weeks that
   are shown, never of all weeks: a total that included a suppressed week would give
   that week away as `total - (the weeks shown)`. For the same reason a group's total
   adds up only its group-weeks that survive rules 1 and 2 within each week, so asking
   again a week later (when the total has grown by one week) reveals only that week's
   figure, which was itself checked.
4. **Complete weeks only.** Weekly figures stop at the last complete week: a week still
   under way grows day by day, and two readings a day apart would show what the few
   people in between did.

What remains visible by design: a figure that changes between two readings says that
someone in a population of at least k acted (answered late, completed a milestone), not
who.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from typing import TypeVar

K = TypeVar("K", bound=Hashable)


def shown(population: frozenset[int] | set[int], k: int) -> bool:
    """Rule 1: a figure over this population may be shown."""
    return len(population) >= k


def hidden_parts(parts: Mapping[K, frozenset[int]], k: int) -> set[K]:
    """Rules 1 and 2: which parts of a partition to suppress, whole shown alongside.

    Empty parts are shown (a zero reveals nobody) and never help hide anything.
    """
    hidden = {key for key, members in parts.items() if 0 < len(members) < k}
    if not hidden:
        return hidden
    together: set[int] = set().union(*(parts[key] for key in hidden))
    candidates = sorted(
        (key for key, members in parts.items() if members and key not in hidden),
        key=lambda key: (len(parts[key]), str(key)),
    )
    for key in candidates:
        if len(together) >= k:
            break
        hidden.add(key)
        together |= parts[key]
    return hidden
