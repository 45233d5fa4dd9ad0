"""Claims where the article describes an architecture or tells history (A6 Mamba, A10 deep belief
networks, A11 GMDH): the verdict is `definitional`, its evidence the registry's `why` (what the sentence
states and why no score can confirm it), and the part bench can measure is judged by the topic's rule as
a separate reproduction verdict, carried in `Verdict.reproduction` and never counted as the claim's."""
from __future__ import annotations

from harness.claims.verdict import RECORDER, Verdict, verdict


def described(entry: dict, reproduced: Verdict) -> Verdict:
    """The descriptive verdict of `entry`, with `reproduced` (a rule's verdict on what bench measured)
    as its reproduction line; the reproduction's detail, scope and curves are kept."""
    why = " ".join(str(entry.get("why", "")).split()) or "the sentence describes rather than predicts"
    recorder = RECORDER.get()
    if reproduced.counts is None and recorder is not None and recorder.counts is not None:
        reproduced.counts = dict(recorder.counts)
    tally = f" ({reproduced.counts_text})" if reproduced.counts else ""
    reproduction = f"reproduction: {reproduced.verdict}{tally} — {reproduced.evidence}"
    return verdict(entry, "definitional", f"{why} {reproduction}",
                   f"Reproduction ({reproduced.verdict}), what bench can measure of it:\n\n{reproduced.detail}",
                   reproduced.scope, reproduction=reproduction, curves=reproduced.curves,
                   counts={})  # no tally: the reproduction's tasks are not the claim's
