"""Benchmark: `ciwatch-etl demo` from an empty data folder, as a new user runs it (target <= 60 s).

    python benchmarks/demo.py [--repeat 3]

The demo's work is fixed (120 days of simulated history over real HTTP, every asset, the report),
so the figure is absolute; the floor beside it is the interpreter starting and importing the
package's command line, what every command pays before doing anything.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from measure import CLI, append_results, measure, median  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    runs, starts = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for attempt in range(args.repeat):
            home = Path(tmp) / f"demo-{attempt}"
            runs.append(measure([CLI, "demo", "--home", str(home)], cwd=Path(tmp)))
            shutil.rmtree(home)
            starts.append(measure([CLI, "--help"]))
            print(f"demo {runs[-1].wall_s:.1f} s", flush=True)
    lines = [
        "| run | wall s (median) | min | max | CPU s | peak RSS MiB |",
        "|---|---:|---:|---:|---:|---:|",
        f"| `ciwatch-etl demo` | {median([m.wall_s for m in runs]):.1f} | {min(m.wall_s for m in runs):.1f} "
        f"| {max(m.wall_s for m in runs):.1f} | {median([m.cpu_s for m in runs]):.1f} "
        f"| {max(m.max_rss_mib for m in runs):.0f} |",
        f"| `ciwatch-etl --help` (start-up) | {median([m.wall_s for m in starts]):.2f} | "
        f"{min(m.wall_s for m in starts):.2f} | {max(m.wall_s for m in starts):.2f} "
        f"| {median([m.cpu_s for m in starts]):.2f} | {max(m.max_rss_mib for m in starts):.0f} |",
    ]
    print("\n".join(lines))
    append_results("demo.py", " ".join(["python benchmarks/demo.py", *sys.argv[1:]]), lines)


if __name__ == "__main__":
    main()
