"""Where each profiled service spends its time: the folded stacks ``run.py --profile DIR``
wrote, summed by function, self time (the innermost frame) and total (anywhere on the stack).

Usage: uv run python bench/e2e/hot.py DIR [--top 25] [--only NAME]
"""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path


def hot(folded: Path, top: int) -> str:
    own: Counter[str] = Counter()
    anywhere: Counter[str] = Counter()
    total = 0
    for line in folded.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack:
            continue
        n = int(count)
        frames = stack.split(";")
        total += n
        own[frames[-1]] += n
        for frame in set(frames):
            anywhere[frame] += n
    lines = [f"## {folded.stem}: {total} samples", "", "| self | total | function |",
             "|---:|---:|---|"]  # fmt: skip
    for frame, n in own.most_common(top):
        lines.append(f"| {n / total:.1%} | {anywhere[frame] / total:.1%} | `{frame}` |")
    lines += ["", "| total | function |", "|---:|---|"]
    for frame, n in anywhere.most_common(top):
        lines.append(f"| {n / total:.1%} | `{frame}` |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--only", default="", help="only the files whose name holds this")
    args = parser.parse_args()
    for folded in sorted(args.folder.glob("*.txt")):
        if args.only in folded.name:
            print(hot(folded, args.top), end="\n\n")


if __name__ == "__main__":
    main()
