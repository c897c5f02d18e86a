import random

import pytest

from campaigns.draws import weighted_choice


def test_nothing_to_draw_is_none():
    rng = random.Random(1)

    assert weighted_choice([], [], rng) is None
    assert weighted_choice(["a", "b"], [0, 0], rng) is None
    assert weighted_choice(["a"], [-5], rng) is None


def test_zero_and_negative_weights_are_never_drawn():
    rng = random.Random(1)

    drawn = {weighted_choice(["a", "b", "c", "d"], [0, 3, -2, 0], rng) for _ in range(200)}

    assert drawn == {"b"}


def test_every_ticket_maps_to_the_item_that_owns_it():
    """Weights 2, 0, 3: tickets 0-1 are `a`, 2-4 are `c`."""

    class Ticket(random.Random):
        def __init__(self, ticket: int) -> None:
            super().__init__()
            self.ticket = ticket

        def randrange(self, *args, **kwargs) -> int:  # type: ignore[override]
            assert args == (5,)
            return self.ticket

    drawn = [weighted_choice(["a", "b", "c"], [2, 0, 3], Ticket(ticket)) for ticket in range(5)]

    assert drawn == ["a", "a", "c", "c", "c"]


def test_a_seeded_generator_draws_the_same_sequence():
    items, weights = ["a", "b", "c"], [1, 2, 3]

    first = [weighted_choice(items, weights, random.Random(42)) for _ in range(3)]
    second = [weighted_choice(items, weights, random.Random(42)) for _ in range(3)]

    assert first == second


def test_items_and_weights_must_have_the_same_length():
    with pytest.raises(ValueError, match="differ in length"):
        weighted_choice(["a"], [1, 2], random.Random(1))
