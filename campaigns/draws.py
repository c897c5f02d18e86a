"""Weighted random draws (landing pages of a campaign, campaigns of a smart link's level).

The random generator is passed in, so tests draw from a seeded one and production from the
process's own (`random.SystemRandom` is not needed: a draw decides where traffic goes, not a
secret).
"""

import bisect
import itertools
import random
from collections.abc import Sequence
from typing import TypeVar

T = TypeVar("T")


def weighted_choice(items: Sequence[T], weights: Sequence[int], rng: random.Random) -> T | None:
    """One of `items`, each drawn with probability weight / sum of weights.

    A weight of 0 is never drawn; negative weights count as 0. None when there is nothing to
    draw (no items, or no positive weight). `items` and `weights` have the same length.
    """
    if len(items) != len(weights):
        raise ValueError("items and weights differ in length")
    cumulative = list(itertools.accumulate(max(weight, 0) for weight in weights))
    if not cumulative or cumulative[-1] <= 0:
        return None
    # An integer in [0, total): exact, whatever the size of the weights.
    ticket = rng.randrange(cumulative[-1])
    return items[bisect.bisect_right(cumulative, ticket)]
