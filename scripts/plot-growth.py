"""Draws the growth curves that scripts/bench-growth.sh measured (issue 19, item 4).

Usage: python3 scripts/plot-growth.py target/growth/growth.csv docs/bench
One PNG per curve (growth-history.png, …): the command's median time against the size, both
axes logarithmic; a colour per command, solid for the folder remote, dashed for the server,
dotted for a git repository.
"""

import csv
import sys
from collections import defaultdict
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (the backend is chosen first)

TITLES = {
    "history": "History length (versions)",
    "variables": "Variables in the environment",
    "members": "Recipients (members)",
    "environments": "Environments in the project",
    "log": "Membership log entries",
}

# Line style per remote.
STYLES = {"folder": "-", "server": "--", "git": ":"}


def main(csv_path: str, out_dir: str) -> None:
    # A point measured again (an appended run) replaces the earlier one.
    curves = defaultdict(lambda: defaultdict(dict))
    with open(csv_path, newline="") as f:
        for row in csv.DictReader(f):
            line = (row["command"], row["remote"])
            curves[row["curve"]][line][int(row["x"])] = float(row["median_ms"])
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    for curve, lines in curves.items():
        figure, axes = plt.subplots(figsize=(6.4, 4.0), dpi=110)
        commands = sorted({command for command, _ in lines})
        for (command, remote), by_x in sorted(lines.items()):
            points = sorted(by_x.items())
            # One colour per command, one line style per remote.
            axes.plot([x for x, _ in points], [y for _, y in points],
                      STYLES.get(remote, "-."), marker="o",
                      color=f"C{commands.index(command)}", label=f"{command} ({remote})")
        axes.set_xscale("log")
        axes.set_yscale("log")
        axes.set_xlabel(TITLES.get(curve, curve))
        axes.set_ylabel("median time, ms (log)")
        axes.set_title(f"envsync: cost against {TITLES.get(curve, curve).lower()}")
        axes.grid(True, which="both", alpha=0.3)
        axes.legend(fontsize="small")
        figure.tight_layout()
        figure.savefig(Path(out_dir) / f"growth-{curve}.png")
        plt.close(figure)
        print(f"wrote {Path(out_dir) / f'growth-{curve}.png'}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
