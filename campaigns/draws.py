"""Weighted random choice, shared by the click's landing-page draw and the smart links.

The generator is a parameter so tests pass a seeded `random.Random`; production passes
`DRAW_RANDOM`.
"""

import bisect
import itertools
import random
from collections.abc import Sequence
from typing import TypeVar

T = TypeVar("T")

# Draws need no secrecy, only independence. The OS's generator keeps forked web workers from
# repeating one another's sequence, which a module-level `random.Random()` seeded before a fork
# would do.
DRAW_RANDOM: random.Random = random.SystemRandom()


def weighted_choice(items: Sequence[T], weights: Sequence[int], rng: random.Random) -> T | None:
    """One of `items`, each with probability weight / sum of weights; None when the sum is 0
    (no items, or all weights 0). Negative weights count as 0."""
    if len(items) != len(weights):
        raise ValueError("items and weights differ in length.")
    cumulative = list(itertools.accumulate(max(weight, 0) for weight in weights))
    total = cumulative[-1] if cumulative else 0
    if total <= 0:
        return None
    return items[bisect.bisect_right(cumulative, rng.randrange(total))]
