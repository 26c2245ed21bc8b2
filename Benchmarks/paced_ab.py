#!/usr/bin/env python3
"""Two settings of the engine's environment switches against each other, run by run: one
`zoo bench --paced` process per setting, kept running, asked for one run each in turn (which goes
first alternating), so that each pair of runs shares the same second of a shared machine's drift.
Prints each side's median, the median of the pairs' ratios B/A, and the ratio of the fastest runs.

    python3 Benchmarks/paced_ab.py "ZOO_CONCAT=copy" "X=1" googlenet-torchvision [--threads 2] [--batch 1] [--pairs 40]

Use "X=1" for a side without a switch set. Needs a release build (`make build`); no Python packages.
With --zoo-a PATH, side A runs another build of zoo (an earlier revision's, built elsewhere), so that
two versions of the engine are compared the same way: paced_ab.py "X=1" "X=1" MODEL --zoo-a OLD/zoo.
With --gap MS, each run follows MS milliseconds of sleep (an application that runs the engine now
and then: threads that wait for work fall asleep in between); the 75th and 90th percentiles are
printed too, for settings that differ in their slow runs more than in their median. Compare
settings of how threads wait with a gap longer than they spin: without one, a side whose workers
spin on after its run takes a core from the other side's next run (workers spinning 1 ms instead
of 0.1 looked 0.96–0.99× as fast back to back, 0.98–1.03× with 20 ms gaps).
"""
import argparse
import os
import statistics
import time

from paced import PacedZoo

here = os.path.dirname(os.path.abspath(__file__))
ap = argparse.ArgumentParser()
ap.add_argument("a")
ap.add_argument("b")
ap.add_argument("model")
ap.add_argument("--threads", type=int, default=2)
ap.add_argument("--batch", type=int, default=1)
ap.add_argument("--pairs", type=int, default=40)
ap.add_argument("--zoo", default=os.path.join(here, "..", ".build", "release", "zoo"))
ap.add_argument("--zoo-a", default=None, help="side A's zoo, where it differs from --zoo")
ap.add_argument("--gap", type=float, default=0, help="ms of sleep before each run")
args = ap.parse_args()


def start(setting, zoo):
    env = dict(os.environ)
    for item in setting.split():
        key, _, value = item.partition("=")
        env[key] = value
    return PacedZoo(zoo, args.model, args.batch, args.threads, env)


side_a, side_b = start(args.a, args.zoo_a or args.zoo), start(args.b, args.zoo)
# Both warm up at once (untimed); one run each before the timed pairs.
side_a.run(), side_b.run()


def run(side):
    time.sleep(args.gap / 1000)
    return side.run()


ta, tb = [], []
for i in range(args.pairs):
    if i % 2 == 0:
        ta.append(run(side_a)); tb.append(run(side_b))
    else:
        tb.append(run(side_b)); ta.append(run(side_a))
side_a.close(), side_b.close()
ratio = statistics.median(y / x for x, y in zip(ta, tb))
print(f"{args.model}, {args.threads} threads, batch {args.batch}, {args.pairs} pairs: A ({args.a}) {statistics.median(ta):.2f} ms, "
      f"B ({args.b}) {statistics.median(tb):.2f} ms, median B/A {ratio:.3f}, fastest B/A {min(tb) / min(ta):.3f}")
if args.gap > 0:
    qa, qb = statistics.quantiles(ta, n=20), statistics.quantiles(tb, n=20)
    print(f"  after {args.gap:g} ms of sleep: 75th percentile A {qa[14]:.2f} ms, B {qb[14]:.2f} ms; "
          f"90th A {qa[17]:.2f} ms, B {qb[17]:.2f} ms")
