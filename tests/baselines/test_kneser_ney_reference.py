"""bench's Kneser-Ney character model (baselines/charlm.py) pinned to a second implementation written
here from the textbook, on a small corpus: every per-character probability and the bits per character.

The reference follows Chen & Goodman (1999, "An empirical study of smoothing techniques for language
modeling", section 3 and eq. 17), interpolated Kneser-Ney with Ney's discount per order:

    p(w | h) = max(c(h w) - D, 0) / c(h .)  +  D N1+(h .) / c(h .) * p(w | h')     (h' = h less its first char)

with c the raw count at the highest order and, below it, the continuation count N1+(. h w): the
number of distinct characters seen right before `h w` in the text. D = n1 / (n1 + 2 n2) per order,
n1 and n2 the numbers of n-grams whose count (of that order's kind) is 1 and 2. An unseen context
(c(h .) = 0) leaves p(w | h'); below order 1 is the uniform distribution over the alphabet.
bench computes its tables the other way round, each order from the one above. The corpus starts
with characters seen nowhere else ("xq"): this pin found that bench took each order's continuation
counts from the n-gram types of the order above, so an n-gram met only at the start of the stream
lost its left neighbour (p differed by up to 0.4 in such contexts); baselines/charlm.py now counts
them over every n-gram of the text, as the definition says.

nltk's KneserNeyInterpolated is not the reference: it uses one fixed discount (0.1) for every
order rather than Ney's estimate per order, so it defines a different model.
"""
from __future__ import annotations

import math
from collections import Counter, defaultdict

import numpy as np
import pytest

from baselines.charlm import KneserNey
from harness.tasks.language_model import START

CORPUS = [
    "xq the cat sat on the mat. the dog sat on the log. ",
    "a cat and a dog met on the mat; the cat ran off. ",
    "then the dog slept, and the cat sat still on the warm mat. ",
    "the end of the tale: cats and dogs on mats and logs.",
]
HELD_OUT = ["the cat met a dog on a log. ", "quiet zebras sat on the mat!", "xq the"]  # unseen letters: the lower orders


class TextbookKneserNey:
    """Interpolated Kneser-Ney of order N, counted straight from the text (module docstring)."""

    def __init__(self, text: str, order: int, alphabet: list[str]):
        self.order, self.alphabet = order, alphabet
        self.counts: dict[int, dict[str, float]] = {}
        for n in range(1, order + 1):
            if n == order:
                self.counts[n] = Counter(text[i:i + n] for i in range(len(text) - n + 1))
            else:
                before = defaultdict(set)  # n-gram -> the characters seen right before it
                for i in range(1, len(text) - n + 1):
                    before[text[i:i + n]].add(text[i - 1])
                self.counts[n] = {gram: len(chars) for gram, chars in before.items()}
        self.discount, self.context_total, self.context_types = {}, {}, {}
        for n, counts in self.counts.items():
            n1 = sum(1 for c in counts.values() if c == 1)
            n2 = sum(1 for c in counts.values() if c == 2)
            self.discount[n] = n1 / (n1 + 2 * n2) if n1 + n2 else 0.5
            total, types = Counter(), Counter()
            for gram, c in counts.items():
                total[gram[:-1]] += c
                types[gram[:-1]] += 1
            self.context_total[n], self.context_types[n] = total, types

    def p(self, history: str, char: str) -> float:
        """p(char | history), history at most N - 1 characters, by the recursion from the longest one."""
        n = len(history) + 1
        lower = 1.0 / len(self.alphabet) if n == 1 else self.p(history[1:], char)
        total = self.context_total[n].get(history, 0)
        if total == 0:
            return lower
        d = self.discount[n]
        return max(self.counts[n].get(history + char, 0) - d, 0) / total + d * self.context_types[n][history] / total * lower


@pytest.mark.parametrize("order", [1, 2, 3, 5])
def test_bench_kneser_ney_matches_the_textbook_definition(order):
    model = KneserNey(order=order).fit(CORPUS)
    text = "".join(CORPUS)
    reference = TextbookKneserNey(text, order, model.alphabet_)
    held_out = [model.clean(t) for t in HELD_OUT]
    probs, expected = [], []
    for piece in held_out:
        stream = START + piece
        for i in range(len(START), len(stream)):
            history = stream[max(0, i - order + 1):i]
            probs.append(model.prob(history, stream[i]))
            expected.append(reference.p(history, stream[i]))
    np.testing.assert_allclose(probs, expected, rtol=1e-12, atol=0)
    # per text, bits as bench scores them; bits per character as the suite reports
    bits = model.predict(HELD_OUT)
    reference_bits = [-sum(math.log2(reference.p((START + t)[max(0, i - order + 1):i], (START + t)[i]))
                           for i in range(len(START), len(START + t))) for t in held_out]
    np.testing.assert_allclose(bits, reference_bits, rtol=1e-10)
    assert sum(bits) / sum(map(len, held_out)) == pytest.approx(sum(reference_bits) / sum(map(len, held_out)))


def test_the_reference_is_a_distribution_and_tells_models_apart():
    """The reference itself: probabilities over the alphabet sum to 1 in seen and unseen contexts; and
    it is not blind (another discount gives other probabilities, which the pin above would catch)."""
    model = KneserNey(order=3).fit(CORPUS)
    reference = TextbookKneserNey("".join(CORPUS), 3, model.alphabet_)
    for history in ("th", "e ", "zq", ""):
        assert sum(reference.p(history, c) for c in model.alphabet_) == pytest.approx(1.0, abs=1e-12)
    reference.discount[3] = 0.5 * reference.discount[3]
    assert abs(reference.p("th", "e") - model.prob("th", "e")) > 1e-3
