"""The repair-efficacy report: accuracy per arm, level, discipline and repaired/other items, over seeds.

``write_report`` computes everything from per-item outcomes (so every figure can be re-derived from
``report.json``; the same results give the same bytes) and writes ``report.json``, ``report.md`` and ``report.png`` (matplotlib, Agg) atomically.
The verdict is stated plainly whichever way it comes out; a difference smaller than the spread over
seeds is called inconclusive.
"""
from __future__ import annotations

import json
import statistics
from pathlib import Path
from typing import Any

from syllabus.fileio import write_atomic

ARMS = ("V0", "V1", "V2", "V2-random")


def touched_items(test_units: dict[str, tuple[str, str, list[str]]], repaired: list[str]) -> list[str]:
    """Test items whose trace includes a repaired unit."""
    hit = set(repaired)
    return sorted(i for i, (_lv, _d, units) in test_units.items() if hit.intersection(units))


def _acc(outcomes: dict[str, int], items: list[str]) -> dict[str, Any]:
    got = [outcomes[i] for i in items if i in outcomes]
    return {"items": len(got), "correct": sum(got), "accuracy": round(sum(got) / len(got), 4) if got else None}


def _groups(test_items: dict[str, dict], touched: list[str]) -> dict[str, list[str]]:
    ids = sorted(test_items)
    hit = set(touched)
    groups = {"all": ids, "repaired units": [i for i in ids if i in hit],
              "other items": [i for i in ids if i not in hit]}
    for key in ("level", "discipline"):
        for value in sorted({v[key] for v in test_items.values()}):
            groups[f"{key} {value}"] = [i for i in ids if test_items[i][key] == value]
    return groups


def _spread(values: list[float]) -> dict[str, Any]:
    vals = [v for v in values if v is not None]
    if not vals:
        return {"mean": None, "sd": None, "n": 0, "values": values}
    return {"mean": round(statistics.fmean(vals), 4), "sd": round(statistics.stdev(vals), 4) if len(vals) > 1 else 0.0,
            "n": len(vals), "values": values}


def summarise(results: dict[str, Any]) -> dict[str, Any]:
    """Per group: each arm's accuracy per seed, mean and sd; paired differences between arms."""
    test_items = results["test_items"]
    per_seed: list[dict[str, dict[str, Any]]] = []
    for s in results["seeds"]:
        outcomes = {"V0": results["V0_per_item"], **s["per_item"]}
        groups = _groups(test_items, s["touched_test_items"])
        per_seed.append({g: {arm: _acc(outcomes[arm], ids) for arm in ARMS} for g, ids in groups.items()})
    summary: dict[str, Any] = {}
    for g in per_seed[0] if per_seed else []:
        arms = {arm: _spread([ps[g][arm]["accuracy"] for ps in per_seed]) for arm in ARMS}
        items = [ps[g]["V1"]["items"] for ps in per_seed]

        def diff(a: str, b: str) -> dict[str, Any]:
            pairs = [(ps[g][a]["accuracy"], ps[g][b]["accuracy"]) for ps in per_seed]
            values = [round(x - y, 4) if x is not None and y is not None else None for x, y in pairs]
            out = _spread(values)
            out["wins"] = sum(1 for v in values if v is not None and v > 0)
            return out

        summary[g] = {"items": items, "arms": arms, "V2-V1": diff("V2", "V1"), "V2random-V1": diff("V2-random", "V1"),
                      "V2-V2random": diff("V2", "V2-random")}
    return {"per_seed": per_seed, "groups": summary}


def verdict(summary: dict[str, Any], seeds: int) -> list[str]:
    """Plain sentences on the three questions: does repair help, does targeting matter, is anything lost."""
    g = summary["groups"]
    lines = []

    def pts(x: float | None) -> str:
        return "n/a" if x is None else f"{x * 100:+.1f} points"

    def judged(d: dict) -> str:
        if d["mean"] is None:
            return "not measurable"
        if seeds > 1 and abs(d["mean"]) <= d["sd"]:
            return "within the spread over seeds: inconclusive"
        return "better" if d["mean"] > 0 else "worse"

    rep = g.get("repaired units")
    if rep and rep["items"] and min(rep["items"]) > 0:
        d, r, t = rep["V2-V1"], rep["V2random-V1"], rep["V2-V2random"]
        lines.append(f"On test items that touch repaired units ({min(rep['items'])}-{max(rep['items'])} items per seed), "
                     f"targeted repair changed accuracy by {pts(d['mean'])} over V1 (sd {pts(d['sd'])[1:]}), "
                     f"random data of the same size by {pts(r['mean'])}.")
        lines.append(f"Targeted minus random on those items: {pts(t['mean'])} (sd {pts(t['sd'])[1:]}), "
                     f"targeted ahead in {t['wins']} of {t['n']} seeds: {judged(t)}.")
    else:
        lines.append("No test item touches a repaired unit, so the targeted effect cannot be measured here.")
    other = g.get("other items")
    if other and other["items"] and min(other["items"]) > 0:
        lines.append(f"On the other test items (no repaired unit), V2 vs V1: {pts(other['V2-V1']['mean'])} "
                     f"({judged(other['V2-V1'])}); V2-random vs V1: {pts(other['V2random-V1']['mean'])}.")
    every = g.get("all")
    if every:
        lines.append(f"All test items: V0 {_pct(every['arms']['V0']['mean'])}, V1 {_pct(every['arms']['V1']['mean'])}, "
                     f"V2 {_pct(every['arms']['V2']['mean'])}, V2-random {_pct(every['arms']['V2-random']['mean'])} "
                     f"(means over {seeds} seed(s)); targeted minus random overall: "
                     f"{pts(every['V2-V2random']['mean'])} ({judged(every['V2-V2random'])}).")
    return lines


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{x * 100:.1f}%"


def _cell(spread: dict) -> str:
    if spread["mean"] is None:
        return "-"
    return f"{spread['mean'] * 100:.1f} ± {spread['sd'] * 100:.1f}" if spread["n"] > 1 else f"{spread['mean'] * 100:.1f}"


def markdown(meta: dict, summary: dict, lines: list[str], results: dict) -> str:
    o = meta["options"]
    out = [f"# Repair efficacy: {meta['model']}", "",
           f"Base model `{meta['model']}`; {o['seeds']} seed(s); repair budget {o['budget']} examples"
           + (f" over the {o['max_gaps']} best-scored gaps" if o.get("max_gaps") else " over every gap found") + "; "
           f"training: {o['method']}, {o['epochs']} epoch(s), max length {o['max_length']}, batch {o['batch_size']}"
           + (f", LoRA on the top {o['lora_layers']} blocks" if o.get("lora_layers") else "")
           + (f", V1 data = a fixed sample of {o['train_limit']} build examples" if o.get("train_limit") else "")
           + f"; diagnosis on {o['dev_items'] or 'all'} dev items, evaluation on {o['test_items'] or 'all'} test items. "
           f"Compute: {meta.get('training_seconds', 0) / 60:.1f} min of training and "
           f"{meta.get('scoring_seconds', 0) / 60:.1f} min of scoring, summed over the steps.",
           "", "## Result", ""]
    out += [f"- {line}" for line in lines]
    out += ["", "## Accuracy on the test split (%, mean ± sd over seeds)", "",
            "| items | n | V0 | V1 | V2 (targeted) | V2-random | V2 − V2-random |", "|---|---|---|---|---|---|---|"]
    for g, row in summary["groups"].items():
        n = row["items"]
        n_text = str(n[0]) if len(set(n)) == 1 else f"{min(n)}-{max(n)}"
        a = row["arms"]
        out.append(f"| {g} | {n_text} | {_cell(a['V0'])} | {_cell(a['V1'])} | {_cell(a['V2'])} | {_cell(a['V2-random'])} "
                   f"| {_cell(row['V2-V2random'])} |")
    out += ["", "## Per seed", "", "| seed | patch examples | random examples | repaired units | touched test items "
            "| V1 | V2 | V2-random | V1 train loss | V2 train loss | V2-random train loss |", "|---|---|---|---|---|---|---|---|---|---|---|"]
    for s, ps in zip(results["seeds"], summary["per_seed"]):
        t = s["training"]
        rep = ps["repaired units"]
        out.append(f"| {s['seed']} | {s['patch_examples']} | {s['random_examples']} | {len(s['repaired_units'])} | "
                   f"{len(s['touched_test_items'])} | {_pct(rep['V1']['accuracy'])} | {_pct(rep['V2']['accuracy'])} | "
                   f"{_pct(rep['V2-random']['accuracy'])} | {t['V1']['train_loss']} | {t['V2']['train_loss']} | "
                   f"{t['V2-random']['train_loss']} |")
    out += ["", "(V1/V2/V2-random columns of this table: accuracy on the seed's items touching repaired units; train "
            "loss: the mean over all steps.)", "",
            "## How it was run", "",
            "V0 = base; V1 = base trained on the latest build; V1 scored on dev, diagnosed, repaired with the budget "
            "and recompiled; V2 = base trained on V1's data + the targeted patch; V2-random = base trained on V1's "
            "data + as many examples from the same patch renderers for gaps of the same kinds on units drawn at "
            "random. All arms scored on the same test items, which diagnosis never saw. Figures: report.json; "
            "chart: report.png.", ""]
    return "\n".join(out)


def chart(path: Path, summary: dict, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    groups = [g for g in ("all", "repaired units", "other items", "level L1", "level L2", "level L3")
              if g in summary["groups"]]
    fig, ax = plt.subplots(figsize=(9, 4.2), dpi=110)
    width = 0.2
    colours = {"V0": "#9e9e9e", "V1": "#5c6bc0", "V2": "#2e7d32", "V2-random": "#ef6c00"}
    for k, arm in enumerate(ARMS):
        means = [(summary["groups"][g]["arms"][arm]["mean"] or 0) * 100 for g in groups]
        sds = [(summary["groups"][g]["arms"][arm]["sd"] or 0) * 100 for g in groups]
        xs = [i + (k - 1.5) * width for i in range(len(groups))]
        ax.bar(xs, means, width, yerr=sds, capsize=3, label=arm, color=colours[arm])
    ax.set_xticks(range(len(groups)), groups)
    ax.set_ylabel("test accuracy (%)")
    ax.set_ylim(0, 100)
    ax.set_title(title, fontsize=10)
    ax.legend(ncol=4, fontsize=8, loc="upper right")
    fig.tight_layout()
    tmp = path.with_name(path.name + ".tmp.png")
    fig.savefig(tmp, metadata={"Software": None})
    plt.close(fig)
    tmp.replace(path)


def write_report(out: Path, meta: dict, results: dict) -> dict[str, Any]:
    """Write report.json / report.md / report.png under *out*; return the summary with the verdict."""
    summary = summarise(results)
    lines = verdict(summary, len(results["seeds"]))
    data = {"meta": meta, "verdict": lines, "summary": summary["groups"], "results": results}
    write_atomic(out / "report.json", json.dumps(data, indent=2, sort_keys=True) + "\n")
    write_atomic(out / "report.md", markdown(meta, summary, lines, results))
    chart(out / "report.png", summary, f"{meta['model']}: test accuracy by arm ({len(results['seeds'])} seeds)")
    return {"out": str(out), "verdict": lines, "groups": summary["groups"], "meta": meta}
