"""Deep Q-learning's training with and without subnormal floats flushed to zero (harness/core/hardware.py
`flush_denormals`, which every deep CPU cell runs under).

The agent is built as suite=rl builds it (suites/model/dqn.yaml, rl-baselines3-zoo's settings) and trained
for `--steps` environment steps of each environment from the same seed, once with subnormals and once
flushed, alternating which goes first over `--repeats`. Printed: the median training seconds of each and
their ratio, the time of Adam's steps alone (a profiler's count of the fused kernel), and the greedy
return after training of each, which says whether the flush changed what the agent learned.

Run from the repository root on an otherwise idle machine: `python -m benchmarks.denormals`.
"""
from __future__ import annotations

import argparse
import statistics
import time

import torch

from harness.core.cell import build_estimator
from harness.core.config import compose_config
from harness.core.hardware import flush_denormals
from harness.data.rl import load_environment

ENVIRONMENTS = {"CartPole-v1": [[-2.4, 2.4], [-3.0, 3.0], [-0.2095, 0.2095], [-3.5, 3.5]], "Acrobot-v1": None}


def train(env_id: str, steps: int, flush: bool) -> tuple[float, float, float]:
    """(training seconds, seconds in Adam's steps, mean greedy return over 10 episodes)."""
    from harness.tasks.control import play

    task = load_environment(env_id, seed=0, train_steps=steps, observation_bounds=ENVIRONMENTS[env_id],
                            curve_points=1, curve_episodes=1, eval_episodes=10)
    agent = build_estimator(compose_config(["model=dqn"]).model, 0, "cpu", None)
    adam = [0.0]
    step = torch.optim.Adam.step

    def timed_step(self, *a, **k):
        t0 = time.perf_counter()
        out = step(self, *a, **k)
        adam[0] += time.perf_counter() - t0
        return out

    torch.optim.Adam.step = timed_step
    try:
        with flush_denormals(flush):
            t0 = time.perf_counter()
            agent.fit(task.environment)
            seconds = time.perf_counter() - t0
            returns, _ = play(agent, task.environment.make(), 10, seed=1)
    finally:
        torch.optim.Adam.step = step
    return seconds, adam[0], float(returns.mean())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--envs", nargs="+", default=list(ENVIRONMENTS), choices=list(ENVIRONMENTS))
    ap.add_argument("--steps", type=int, default=10000)
    ap.add_argument("--repeats", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(1)  # as suite=rl's cells run; the flush is per thread
    print(f"DQN, {args.steps} environment steps, one thread, median of {args.repeats}")
    print(f"{'environment':12s} {'subnormals s':>12s} {'flushed s':>9s} {'speed-up':>8s} {'Adam s':>13s} "
          f"{'return':>15s}")
    for env_id in args.envs:
        runs: dict[bool, list[tuple[float, float, float]]] = {False: [], True: []}
        for r in range(args.repeats):
            for flush in ((False, True) if r % 2 == 0 else (True, False)):
                runs[flush].append(train(env_id, args.steps, flush))
        med = {f: [statistics.median(x[i] for x in runs[f]) for i in range(3)] for f in runs}
        print(f"{env_id:12s} {med[False][0]:12.1f} {med[True][0]:9.1f} {med[False][0] / med[True][0]:7.2f}x "
              f"{med[False][1]:6.1f} -> {med[True][1]:4.1f} {med[False][2]:7.1f} / {med[True][2]:5.1f}")


if __name__ == "__main__":
    main()
