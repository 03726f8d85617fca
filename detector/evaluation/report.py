"""``--report DIR``: the precision-recall curve over the path's threshold (PNG when matplotlib is
installed, else skipped with a note) and a Markdown file with the curve table and confusion examples."""

from __future__ import annotations

import json
from pathlib import Path

from detector.evaluation import metrics
from detector.evaluation.paths import PathResult


def write_report(directory: str | Path, result: PathResult, summary: dict, *, dataset: str) -> dict:
    """Write ``<path>_pr.png`` (if possible) and ``<path>_report.md``; return what was written."""
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    path = summary["path"]
    labels = [r["label"] for r in result.records]
    points = metrics.pr_curve(labels, result.scores, result.thresholds) if result.thresholds else []
    png, note = None, None
    if points:
        try:
            import matplotlib

            matplotlib.use("Agg")
            import matplotlib.pyplot as plt
        except ImportError:
            note = "matplotlib is not installed: no PNG (pip install matplotlib)"
        else:
            fig, ax = plt.subplots(figsize=(5, 4))
            ax.plot([p["recall"] for p in points], [p["precision"] for p in points], marker=".")
            ax.scatter([summary["recall"]], [summary["precision"]], color="red", zorder=3, label="as configured")
            ax.set_xlabel("recall"), ax.set_ylabel("precision"), ax.set_xlim(0, 1.02), ax.set_ylim(0, 1.02)
            ax.set_title(f"{path} on {dataset} ({result.threshold_name})", fontsize=9)
            ax.legend(loc="lower left")
            png = out / f"{path}_pr.png"
            fig.savefig(png, dpi=100, bbox_inches="tight")
            plt.close(fig)
    examples = metrics.confusion_examples(result.records, labels, result.flags)
    lines = [f"# `detector eval --path {path}` on {dataset}", "", "```json",
             json.dumps(summary, ensure_ascii=False, indent=1), "```", ""]
    if points:
        lines += [f"## Precision-recall over the {result.threshold_name}", ""]
        lines += [f"![PR curve]({png.name})" if png else f"_{note}_", ""]
        lines += [f"| {result.threshold_name} | flagged | precision | recall | F1 |", "|---:|---:|---:|---:|---:|"]
        lines += [f"| {p['threshold']:g} | {p['flagged']} | {p['precision']:.3f} | {p['recall']:.3f} | {p['f1']:.3f} |"
                  for p in points]
        lines.append("")
    for kind, title in (("false_positives", "False positives (normal, flagged)"),
                        ("false_negatives", "False negatives (seller, not flagged)")):
        lines += [f"## {title}", ""]
        lines += [f"- `{e['id']}`: {_md(e['text'])}" for e in examples[kind]] or ["none"]
        lines.append("")
    md = out / f"{path}_report.md"
    md.write_text("\n".join(lines), encoding="utf-8")
    return {"markdown": str(md), "png": str(png) if png else None, **({"note": note} if note else {})}


def _md(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|").replace("`", "'")
