"""A7 (GAN against GMM and KDE) and A8 (diffusion against the GAN and the VAE)."""
import numpy as np
import pandas as pd

from tests.claims.cells import SEEDS, cell, noisy, verdict_of

GENERATORS = {"gmm": "classical", "kde": "classical", "pca_gaussian": "classical", "gan": "deep", "vae": "deep",
              "ddpm": "deep"}


def generation_rows(fd, precision=None, recall=None, seeds=SEEDS, datasets=("digits", "mnist5k")):
    """Rows of suite=generative: per model a Fréchet distance, precision and recall (each a value or a
    callable of the seed); models left out of `fd` did not run."""
    precision, recall = precision or {}, recall or {}
    at = lambda v, s: v(s) if callable(v) else v  # noqa: E731
    return pd.DataFrame([cell(ds, model, GENERATORS[model], s, accuracy=np.nan, suite="generative",
                              frechet_distance=at(value, s), precision=at(precision.get(model, 0.7), s),
                              recall=at(recall.get(model, 0.5), s), cas_accuracy=0.8)
                         for ds in datasets for s in seeds for model, value in fd.items()])


def test_a7_supported_when_the_gan_beats_gmm_and_kde_on_distance_and_precision_recall():
    df = generation_rows({"gmm": noisy(30, 1), "kde": noisy(25, 1), "gan": noisy(10, 1)},
                         precision={"gan": 0.8}, recall={"gan": 0.6})
    v = verdict_of("A7-gan", df)
    assert v.verdict == "supported", v.evidence
    assert "gmm FD / GAN FD" in v.evidence and "digits" in v.detail


def test_a7_contradicted_mixed_and_inconclusive():
    worse = generation_rows({"gmm": noisy(10, 1), "kde": noisy(12, 1), "gan": noisy(30, 1)},
                            precision={"gan": 0.5}, recall={"gan": 0.3})
    assert verdict_of("A7-gan", worse).verdict == "contradicted"
    # lower distance but worse recall than the rivals: only part of the claim holds
    split = generation_rows({"gmm": noisy(30, 1), "kde": noisy(25, 1), "gan": noisy(10, 1)},
                            precision={"gan": 0.8}, recall={"gan": 0.2})
    assert verdict_of("A7-gan", split).verdict == "mixed"
    # one seed and gaps below 1.25x and 5 points: no verdict
    close = generation_rows({"gmm": 11.0, "kde": 11.5, "gan": 10.0}, precision={"gan": 0.72}, seeds=(0,))
    assert verdict_of("A7-gan", close).verdict == "inconclusive"
    assert verdict_of("A7-gan", generation_rows({"vae": 10.0, "gmm": 12.0})).verdict == "inconclusive"
    assert verdict_of("A7-gan", pd.DataFrame([cell()])).verdict == "not-run"


def test_a8_supported_when_diffusion_matches_the_gan_and_varies_no_more_than_the_vae():
    seeds = (0, 1, 2, 3, 4)
    steady = lambda base, spread: lambda s: base * (1 + spread * (1, -1, 0.5, -0.5, 0)[s])  # noqa: E731
    df = generation_rows({"gan": steady(20, 0.3), "vae": steady(40, 0.3), "ddpm": steady(15, 0.05)}, seeds=seeds)
    v = verdict_of("A8-diffusion", df)
    assert v.verdict == "supported", v.evidence
    worse = generation_rows({"gan": steady(10, 0.05), "vae": steady(40, 0.3), "ddpm": steady(30, 0.05)}, seeds=seeds)
    assert verdict_of("A8-diffusion", worse).verdict == "mixed"  # steadier than the VAE, but behind the GAN
    shaky = generation_rows({"gan": steady(10, 0.05), "vae": steady(40, 0.01), "ddpm": steady(30, 0.3)}, seeds=seeds)
    assert verdict_of("A8-diffusion", shaky).verdict == "contradicted"
    # so shaky that its mean gap to the GAN is inside its own noise: only the stability part is decided
    shakier = generation_rows({"gan": steady(10, 0.05), "vae": steady(40, 0.01), "ddpm": steady(30, 0.8)}, seeds=seeds)
    assert verdict_of("A8-diffusion", shakier).verdict == "mixed"
    # one seed: the quality part may hold, but a spread over seeds cannot be measured
    one = generation_rows({"gan": 20.0, "vae": 40.0, "ddpm": 15.0}, seeds=(0,))
    v = verdict_of("A8-diffusion", one)
    assert v.verdict == "inconclusive" and "spread not measured" in v.evidence
    behind_one = generation_rows({"gan": 10.0, "vae": 40.0, "ddpm": 30.0}, seeds=(0,))
    # behind on quality, but one part unmeasured and one seed: the conjunction is not decided
    assert verdict_of("A8-diffusion", behind_one).verdict == "inconclusive"


def test_a_generator_still_improving_its_frechet_distance_at_its_cap_makes_a_verdict_budget_limited():
    """A GAN checked along training (fd_every) that lost: stopped at its step cap it was still
    improving, so A7 reads budget-limited; stopped by a plateau of its distance, the verdict stands."""
    def rows(stop_reason):
        df = generation_rows({"gmm": noisy(10, 1), "kde": noisy(12, 1), "gan": noisy(30, 1)},
                             precision={"gan": 0.5}, recall={"gan": 0.3})
        gan = df["model"] == "gan"
        df.loc[gan, "params"] = '{"max_steps": 3000, "fd_every": 200}'
        df.loc[gan, "steps"] = 3000 if stop_reason == "steps" else 1400
        df.loc[gan, "stop_reason"], df.loc[gan, "fd_best_step"] = stop_reason, 1000
        return df

    capped = verdict_of("A7-gan", rows("steps"))
    assert capped.verdict == "budget-limited" and capped.rule_verdict == "contradicted", capped.evidence
    assert "Fréchet distance best at step 1000" in " ".join(capped.conditions.budgets.values())
    settled = verdict_of("A7-gan", rows("plateau"))
    assert settled.verdict == "contradicted", settled.evidence
    assert "stopped by plateau" in settled.conditions.budgets["gan"]


def test_the_loser_of_a_frechet_distance_is_the_side_with_the_larger_one():
    """A diffusion model behind the GAN (a larger distance) while still improving at its step cap: A8
    stays mixed and says that part rests on the DDPM at its budget, not on the GAN (a distance is
    lower-is-better, so the side with the higher value lost)."""
    seeds = (0, 1, 2, 3, 4)
    steady = lambda base, spread: lambda s: base * (1 + spread * (1, -1, 0.5, -0.5, 0)[s])  # noqa: E731
    df = generation_rows({"gan": steady(10, 0.05), "vae": steady(40, 0.3), "ddpm": steady(30, 0.05)}, seeds=seeds)
    for model in ("gan", "ddpm"):
        at = df["model"] == model
        df.loc[at, "params"] = '{"max_steps": 3000, "fd_every": 200}'
        df.loc[at, "steps"], df.loc[at, "stop_reason"], df.loc[at, "fd_best_step"] = 3000, "steps", 3000
    v = verdict_of("A8-diffusion", df)
    assert v.verdict == "mixed" and "still learning at its budget (ddpm on digits, ddpm on mnist5k)" in v.evidence, v.evidence
