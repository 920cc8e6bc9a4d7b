"""Threshold advice per watchlist size, from labelled photos (`manage.py calibrate`).

A watchlist search is open-set identification: a passer-by who is on no list should raise no
alert (false positive identification rate, FPIR, per search), a listed person should
(false negative identification rate, FNIR). False alerts grow with the watchlist, since a
stranger has more templates to resemble, so the threshold must rise with its size.

1. Every photo gets a template (as enrollment makes it) and a probe (as a camera frame is
   judged), through recognition.evaluation.Evaluator, so the scores are the live decision's.
2. Identities come from the folder's labels.csv (`identity`), else from the photo's folder,
   else from the pairs file (photos joined by its same-person rows).
3. Mated searches: each identity's first photo is enrolled; each of its other photos is a
   probe, missed (FNIR) when its score against that template is below the threshold.
4. Non-mated searches: every photo is a probe against the templates of all the *other*
   identities. Its false-match rate per comparison at threshold t, fmr_p(t), is the larger
   of the measured share of those templates scoring >= t and a normal tail fitted to its
   scores (the measured share alone cannot go below 1 / number of templates, and a large
   watchlist needs rates far below that). A gallery of N other people then alerts for it
   with probability 1 - (1 - fmr_p(t))^N, and FPIR(N, t) is the mean over probes: larger
   galleries are simulated from the other identities' templates, probe by probe.
5. The advised threshold for size N is the lowest t with FPIR(N, t) <= the target rate.
"""

import csv
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from recognition.evaluation import NO_FACE, Evaluator, Pair

FPIR_POINTS = (0.001, 0.003)
THRESHOLDS = np.round(np.arange(-0.2, 1.0, 0.0025), 4)


def identities(images_dir: Path, pairs: list[Pair]) -> dict[str, str]:
    """Identity of each photo named in `pairs` (step 2)."""
    names = sorted({p.left for p in pairs} | {p.right for p in pairs})
    labels = images_dir / "labels.csv"
    if labels.is_file():
        with labels.open(newline="") as fh:
            known = {row["file"]: row["identity"] for row in csv.DictReader(fh) if row.get("identity")}
        if all(n in known for n in names):
            return {n: known[n] for n in names}
    if all("/" in n and (images_dir / n).is_file() for n in names):
        return {n: n.rsplit("/", 1)[0] for n in names}
    parent = {n: n for n in names}

    def root(n: str) -> str:
        while parent[n] != n:
            parent[n] = parent[parent[n]]
            n = parent[n]
        return n

    for p in pairs:
        if p.same:
            parent[root(p.left)] = root(p.right)
    return {n: root(n) for n in names}


@dataclass
class Searches:
    mated: NDArray[np.float64]  # score of each mated probe against its own template
    non_mated: list[NDArray[np.float64]]  # per probe: its scores against the other identities' templates


def searches(evaluator: Evaluator, people: dict[str, str]) -> Searches:
    """Steps 1, 3 and 4: the scores, through the live decision."""
    by_identity: dict[str, list[str]] = {}
    for name, who in sorted(people.items()):
        by_identity.setdefault(who, []).append(name)
    enrolled = {who: photos[0] for who, photos in by_identity.items() if evaluator.reference(photos[0]) is not None}
    mated = [
        evaluator.score(Pair(enrolled[who], probe, True))
        for who, photos in by_identity.items()
        if who in enrolled
        for probe in photos[1:]
    ]
    non_mated = []
    for name, who in sorted(people.items()):
        others = [template for other, template in enrolled.items() if other != who]
        scores = np.array([evaluator.score(Pair(t, name, False)) for t in others])
        if len(scores) and (scores > NO_FACE).any():
            non_mated.append(scores[scores > NO_FACE])
    return Searches(np.array(mated, dtype=np.float64), non_mated)


def _normal_tail(z: NDArray[np.float64]) -> NDArray[np.float64]:
    return np.asarray([0.5 * math.erfc(v / math.sqrt(2)) for v in z.ravel()]).reshape(z.shape)


def fmr_per_probe(non_mated: list[NDArray[np.float64]], thresholds: NDArray[np.float64]) -> NDArray[np.float64]:
    """probes x thresholds: the per-comparison false-match rate of each probe (step 4)."""
    rows = []
    for scores in non_mated:
        measured = (scores[:, None] >= thresholds[None, :]).mean(axis=0)
        sigma = max(float(scores.std()), 1e-3)
        fitted = _normal_tail((thresholds - float(scores.mean())) / sigma)
        rows.append(np.maximum(measured, fitted))
    return np.array(rows)


def fpir(fmr: NDArray[np.float64], size: int) -> NDArray[np.float64]:
    """FPIR per threshold for a gallery of `size` people other than the probe."""
    return np.asarray((1 - np.power(1 - fmr, size)).mean(axis=0))


def report(found: Searches, sizes: list[int], target: float) -> dict[str, Any]:
    thresholds = THRESHOLDS.astype(np.float64)
    fmr = fmr_per_probe(found.non_mated, thresholds)
    fnir = (found.mated[:, None] < thresholds[None, :]).mean(axis=0)
    result: dict[str, Any] = {
        "target_fpir": target,
        "mated_searches": len(found.mated),
        "non_mated_searches": len(found.non_mated),
        "sizes": [],
    }
    curves = {}
    for size in sizes:
        rates = fpir(fmr, size)
        curves[size] = (rates, fnir)
        row: dict[str, Any] = {"gallery_size": size}
        for point in (*FPIR_POINTS, target):
            ok = np.flatnonzero(rates <= point)
            at = float(thresholds[ok[0]]) if len(ok) else float(thresholds[-1])
            row[f"threshold_at_fpir_{point:g}"] = round(at, 4)
            row[f"fnir_at_fpir_{point:g}"] = round(float(fnir[ok[0]]) if len(ok) else 1.0, 4)
        row["advised_threshold"] = row[f"threshold_at_fpir_{target:g}"]
        result["sizes"].append(row)
    result["_curves"] = curves
    return result


def plot_det(curves: dict[int, tuple[NDArray[np.float64], NDArray[np.float64]]], path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(6, 5), dpi=100)
    for size, (rates, fnir) in curves.items():
        keep = (rates > 0) & (fnir > 0)
        axes.plot(rates[keep], fnir[keep], label=f"gallery of {size}")
    for point in FPIR_POINTS:
        axes.axvline(point, color="grey", linestyle=":", linewidth=1)
    axes.set_xscale("log")
    axes.set_yscale("log")
    axes.set_xlabel("FPIR (false alerts per non-listed search)")
    axes.set_ylabel("FNIR (listed people missed)")
    axes.set_title(title, fontsize=9)
    axes.grid(True, which="both", alpha=0.3)
    axes.legend()
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)
