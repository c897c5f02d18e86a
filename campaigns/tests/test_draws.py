import random

import pytest

from campaigns.draws import weighted_choice


def test_weighted_choice_follows_the_cumulative_weights():
    class Fixed(random.Random):
        def __init__(self, value):
            super().__init__()
            self.value = value

        def randrange(self, *args, **kwargs):
            return self.value

    items = ["a", "b", "c"]
    weights = [1, 0, 3]

    assert [weighted_choice(items, weights, Fixed(n)) for n in range(4)] == ["a", "c", "c", "c"]


@pytest.mark.parametrize(("items", "weights"), [([], []), (["a", "b"], [0, 0]), (["a"], [-5])])
def test_weighted_choice_is_none_without_weight(items, weights):
    assert weighted_choice(items, weights, random.Random(1)) is None


def test_weighted_choice_refuses_mismatched_lengths():
    with pytest.raises(ValueError, match="differ in length"):
        weighted_choice(["a"], [1, 2], random.Random(1))


def test_weighted_choice_is_reproducible_with_a_seed():
    items, weights = ["a", "b", "c"], [5, 3, 2]
    first = [weighted_choice(items, weights, random.Random(42)) for _ in range(3)]
    rng = random.Random(42)
    again = [weighted_choice(items, weights, rng) for _ in range(50)]
    rng = random.Random(42)

    assert again == [weighted_choice(items, weights, rng) for _ in range(50)]
    assert len(set(first)) == 1
