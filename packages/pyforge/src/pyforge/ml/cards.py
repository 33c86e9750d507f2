"""The model card and the data set card, written from the measured results (never by hand)."""

from __future__ import annotations

from typing import Any

from pyforge.ml.corpus import EXCLUDED_PROJECTS
from pyforge.ml.evaluate import MAX_FALSE_ALARM_RATE, REAL_PREVALENCE
from pyforge.ml.features import MAX_TOKENS
from pyforge.ml.rewrites import KINDS


def _pct(x: float) -> str:
    return f"{100 * x:.1f} %"


def _kind_table(test: dict[str, Any]) -> list[str]:
    rows = ["| kind | functions | joint | location | repair |", "|---|---:|---:|---:|---:|"]
    for kind in KINDS:
        k = test["per_kind"][kind]
        rows.append(
            f"| {kind} | {k['functions']} | {_pct(k['joint_accuracy'])} | "
            f"{_pct(k['location_accuracy'])} | {_pct(k['repair_accuracy'])} |"
        )
    return rows


def _training_line(log: dict[str, Any]) -> str:
    line = (
        f"- Trained for {len(log['epochs'])} epoch(s), {log['steps']} steps, "
        f"{log['train_seconds']:.0f} s on one CPU core, seed 0, peak learning rate "
        f"{log.get('lr', 2e-3):g}"
    )
    prev = log.get("previous")
    if prev:
        line += (
            f", continuing a checkpoint trained {len(prev['epochs'])} epoch(s), "
            f"{prev['steps']} steps, {prev['train_seconds']:.0f} s (`--resume`)"
        )
    return line + "."


def _comparison(nn: dict[str, Any], gb: dict[str, Any]) -> list[str]:
    """Which model wins on each headline figure, and by how much (from the numbers)."""
    out = []
    for key, label in (
        ("joint_accuracy", "joint accuracy over all functions"),
        ("joint_accuracy_mean_over_kinds", "joint accuracy averaged over bug kinds"),
    ):
        diff = nn[key] - gb[key]
        who = "the transformer" if diff > 0 else "the baseline" if diff < 0 else "neither"
        out.append(f"- On {label}, {who} wins by {abs(100 * diff):.1f} points "
                   f"({_pct(nn[key])} vs {_pct(gb[key])}).")  # fmt: skip
    a, b = nn["at_default_threshold"], gb["at_default_threshold"]
    out.append(
        f"- At their default thresholds: false alarms {_pct(a['false_alarm_rate'])} vs "
        f"{_pct(b['false_alarm_rate'])}, precision {_pct(a['precision'])} vs "
        f"{_pct(b['precision'])}, recall {_pct(a['recall'])} vs {_pct(b['recall'])}."
    )
    return ["**Transformer against baseline (test packages):**", "", *out]


def _headline(name: str, r: dict[str, Any]) -> str:
    t = r["at_default_threshold"]
    return (
        f"| {name} | {_pct(r['joint_accuracy'])} | {_pct(r['joint_accuracy_mean_over_kinds'])} | "
        f"{t['threshold']:.2f} | {_pct(t['false_alarm_rate'])} | {_pct(t['precision'])} | "
        f"{_pct(t['recall'])} | {_pct(t['projected_precision_at_1pct_prevalence'])} |"
    )


def model_card(
    meta: dict[str, Any],
    data: dict[str, Any],
    neural: dict[str, Any],
    baseline: dict[str, Any] | None,
    heldback: dict[str, Any] | None = None,
) -> str:
    """The model card in Markdown."""
    test = neural["test"]
    t = test["at_default_threshold"]
    cfg = neural["config"]
    lines = [
        f"# Model card: {meta['name']} {meta['version']}",
        "",
        "A learned bug detector for Python functions. Given one function it says whether it "
        "holds a bug of seven kinds, at which token, and the repair. **All figures below are "
        "measured on synthetic bugs injected into real code of packages held out from "
        "training** (split by package, never by function); they are not precision on real "
        "bugs, which published work finds far lower (He, Beurer-Kellner and Vechev 2022: "
        "detectors above 90 % on injected bugs fall below 10 % precision on real ones).",
        "",
        "## Model",
        "",
        f"- ONNX file `{meta['file']}`, {meta['size_bytes'] / 1e6:.2f} MB, sha256 "
        f"`{meta['sha256']}`.",
        f"- A transformer over hashed subtokens (width {cfg['dim']}, {cfg['layers']} layers, "
        f"{cfg['heads']} heads, feed-forward {cfg['ff']}), "
        f"{neural['parameters']:,} parameters, with GREAT/BugLab-style heads: a pointer over "
        "the tokens (plus a no-bug slot) for the location, and per location a distribution "
        "over fixed repairs (operators, constants, +/-1, add/remove `not`, swap arguments) "
        "and a pointer to another token (variable, attribute or string) for the repair.",
        f"- Reads the first {MAX_TOKENS} tokens of a function (comments and blank lines "
        "dropped); later tokens are not checked.",
        _training_line(neural["training"]),
        "- Probability of a detection = P(location) x P(repair | location): a warning is "
        "right only if both are.",
        "",
        "## Default threshold",
        "",
        f"{t['threshold']:.2f}, chosen on the **validation** packages as the lowest threshold "
        f"with a false-alarm rate on unmodified functions of at most "
        f"{_pct(MAX_FALSE_ALARM_RATE)}: precision before recall.",
        "",
        "## Results on held-out test packages",
        "",
        f"{test['clean_functions']} unmodified functions and {test['buggy_functions']} buggy "
        f"twins from {data['test']['package_count']} packages never seen in training.",
        "",
        "| model | joint accuracy (all) | joint, mean over kinds | threshold | false alarms "
        "on clean | precision (1:1 mix) | recall | projected precision at 1 % prevalence |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
        _headline("transformer (shipped)", test),
    ]
    if baseline is not None:
        lines.append(_headline("gradient boosting baseline", baseline["test"]))
    lines += [
        "",
        "Joint accuracy counts a clean function as right when the most likely answer is "
        '"no bug", and a buggy one when the most likely answer is its true location *and* '
        "repair. Precision and recall at the threshold count a warning as right only when "
        "location and repair are both right. The projected precision assumes "
        f"{_pct(REAL_PREVALENCE)} of real functions hold such a bug and uses the measured "
        "false-alarm rate.",
        "",
        "### Transformer, per kind (buggy functions of the test packages)",
        "",
        *_kind_table(test),
    ]
    if baseline is not None:
        lines += ["", "### Baseline, per kind", "", *_kind_table(baseline["test"])]
        lines += ["", *_comparison(test, baseline["test"])]
    lines += [
        "",
        "### Precision/recall at other thresholds (transformer, test packages)",
        "",
        "| threshold | false alarms | precision (1:1) | recall | projected precision at 1 % |",
        "|---:|---:|---:|---:|---:|",
        *[
            f"| {c['threshold']:.1f} | {_pct(c['false_alarm_rate'])} | {_pct(c['precision'])} "
            f"| {_pct(c['recall'])} | {_pct(c['projected_precision_at_1pct_prevalence'])} |"
            for c in test["curve"]
        ],
        "",
        *_heldback_section(heldback),
        "## Data",
        "",
        "Synthetic: real functions of the standard library and installed packages, read "
        "offline (parsed, never executed), with one injected bug of a known kind; see "
        "DATASET_CARD.md. Training saw clean and buggy functions 2 : 1.",
        "",
        "## Limits",
        "",
        "- Only the seven kinds it was trained on, one bug per function, inside one function.",
        "- Injected bugs are easier than real ones; no real-bug precision has been measured "
        "yet (the 12 held-back projects are reserved for that and were not used here).",
        "- A variable-misuse repair can only name a variable, attribute or string that occurs "
        "elsewhere in the same function.",
        f"- Functions longer than {MAX_TOKENS} tokens are only partly checked.",
        "- Clean code that looks unusual (deliberate `x is not True`, off-by-one loops that are "
        "right) raises false alarms; the threshold bounds them on held-out code, not on yours.",
        "",
        "## Reproduce",
        "",
        "```",
        "pip install -e 'packages/pyforge[train]'",
        "pyforge train bugs            # data, baseline, neural, card; about an hour on 1 core",
        "```",
        "",
    ]
    return "\n".join(lines)


def _heldback_section(h: dict[str, Any] | None) -> list[str]:
    if h is None:
        return []
    lines = [
        "## Released code of the 12 held-back projects",
        "",
        "The shipped model, run over the installed releases of the held-back projects (never "
        "used for training, validation or the threshold). Released code is close to bug-free, "
        "so nearly every warning here is a false alarm: the rate is an upper bound on the "
        "false-alarm rate on real code, and the top warnings are listed for review by hand.",
        "",
        f"- {h['functions_with_candidates']} functions checked, {h['warnings']} warnings at the "
        f"default threshold {h['threshold']:.2f}: {_pct(h['warnings_per_function'])} of "
        "functions.",
        f"- By project: {h['warnings_by_project'] or 'none'}; by kind: "
        f"{h['warnings_by_kind'] or 'none'}.",
        "",
    ]
    if h["top"]:
        lines += ["| probability | where | kind | repair |", "|---:|---|---|---|"]
        for w in h["top"][:15]:
            where = "/".join(w["path"].split("/")[-3:])
            repair = w["repair"].replace("|", "\\|")
            lines.append(
                f"| {w['probability']:.2f} | {where}:{w['line']} `{w['function']}` | "
                f"{w['kind']} | {repair} |"
            )
        lines.append("")
    return lines


def dataset_card(data: dict[str, Any]) -> str:
    """The data set card in Markdown."""
    lines = [
        "# Data set card: pyforge-bugs synthetic bugs",
        "",
        "**Synthetic data.** Every function is real code taken from the Python standard "
        "library and the packages installed next to it, read offline and parsed, never "
        "executed. Every bug is injected: one rewrite of a known kind, applied where the "
        "rewrite still parses. The data set is built on the fly by `pyforge train bugs` "
        "(stage `data`) and not distributed.",
        "",
        "## Kinds",
        "",
        "- variable-misuse: a variable, function or attribute name replaced by another of the "
        "same function;",
        "- wrong-literal: an integer off by one, True/False/None swapped, a string replaced "
        "by another string of the function;",
        "- wrong-comparison, wrong-binary-operator, and-or-swap: an operator replaced;",
        "- negation: `not` added to or removed from a condition;",
        "- swapped-arguments: two neighbouring positional arguments of a call swapped.",
        "",
        "## Sources and split",
        "",
        "Each file belongs to a package (a stdlib top-level module, or a site-packages "
        "top-level package; a vendored copy belongs to the package it copies). Packages are "
        "assigned to train (80 %), validation (10 %) and test (10 %) by a hash of their name, "
        "so no function of a validation or test package is trained on.",
        "",
        f"**Kept out of every split**, vendored copies included: {', '.join(EXCLUDED_PROJECTS)}"
        " (they are the evaluation ground for real bugs). Exclusion errs on the safe side: a "
        "file is also left out when any part of its path is named like one of them (for "
        "example `sqlalchemy/event/attr.py`).",
        "",
        "Functions with 12 to 256 tokens are used, at most a fixed number per package (so "
        "that the largest packages do not dominate); every function appears clean, and with "
        "one injected bug when injection succeeds.",
        "",
        "| split | packages | functions | buggy twins |",
        "|---|---:|---:|---:|",
    ]
    for split in ("train", "val", "test"):
        s = data[split]
        lines.append(f"| {split} | {s['package_count']} | {s['functions']} | {s['buggy_twins']} |")
    lines += [
        "",
        "## Buggy twins per kind",
        "",
        "| kind | train | val | test |",
        "|---|---:|---:|---:|",
    ]
    for kind in KINDS:
        counts = [str(data[s]["kinds"].get(kind, 0)) for s in ("train", "val", "test")]
        lines.append(f"| {kind} | {' | '.join(counts)} |")
    lines += ["", "## Test packages", "", ", ".join(data["test"]["packages"]), ""]
    return "\n".join(lines)
