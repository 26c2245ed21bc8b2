"""A `zoo bench --paced` process kept running: warmed up once, then one timed run each time it is
asked (`Benchmarks/engine_vs_onnxruntime.py --pairs`, `Benchmarks/paced_ab.py`)."""
import subprocess


class PacedZoo:
    def __init__(self, zoo, model, batch, threads, env=None):
        self.what = f"{model}, batch {batch}, {threads} threads"
        self.process = subprocess.Popen([zoo, "bench", model, "--batch", str(batch), "--threads", str(threads),
                                         "--warmup", "3", "--paced"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        text=True, env=env)

    def run(self):
        """One run's milliseconds."""
        self.process.stdin.write("\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            raise SystemExit(f"zoo bench --paced stopped ({self.what})")
        return float(line)

    def close(self):
        self.process.stdin.close()
        self.process.wait()
