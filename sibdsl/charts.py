"""Charts for `sibc simulate`: payout histogram, investor return distribution, payout curve.

matplotlib (Agg backend, imported here only) with fixed metadata, so the same data gives the
same bytes: SVG with a fixed `svg.hashsalt` and no date; PNG without software/date stamps.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .fileio import write_atomic


def _figure():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    matplotlib.rcParams["svg.hashsalt"] = "sibdsl"
    matplotlib.rcParams["svg.fonttype"] = "path"
    fig, ax = plt.subplots(figsize=(7, 4), dpi=100)
    return plt, fig, ax


def _save(plt, fig, path: Path, fmt: str) -> None:
    import io

    buffer = io.BytesIO()
    metadata = {"Date": None, "Creator": None} if fmt == "svg" else {"Software": None}
    fig.tight_layout()
    fig.savefig(buffer, format=fmt, metadata=metadata)
    plt.close(fig)
    write_atomic(path, buffer.getvalue())


def write_charts(directory: str | Path, total_oere: np.ndarray, irr: dict[str, np.ndarray],
                 curve: tuple[str, np.ndarray] | None, currency: str, fmt: str = "svg") -> list[Path]:
    """Write payout.<fmt>, returns.<fmt> and curve.<fmt> (when there is a curve measure)."""
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    amounts = total_oere / 100
    plt, fig, ax = _figure()
    ax.hist(amounts / 1e6, bins=60, color="#336699")
    ax.set_xlabel(f"total payout (million {currency})")
    ax.set_ylabel("scenarios")
    ax.set_title("Distribution of the total payout")
    _save(plt, fig, out / f"payout.{fmt}", fmt)
    written.append(out / f"payout.{fmt}")
    plt, fig, ax = _figure()
    for investor, rates in irr.items():
        finite = rates[np.isfinite(rates)]
        ax.hist(finite * 100, bins=60, alpha=0.7, label=investor)
    ax.set_xlabel("investor IRR (% a year)")
    ax.set_ylabel("scenarios")
    ax.set_title("Distribution of the investor's return")
    if irr:
        ax.legend()
    _save(plt, fig, out / f"returns.{fmt}", fmt)
    written.append(out / f"returns.{fmt}")
    if curve is not None:
        name, x = curve
        order = np.argsort(x, kind="stable")
        bins = np.array_split(order, min(100, max(len(order), 1)))
        xs = [float(x[b].mean()) for b in bins if len(b)]
        ys = [float(amounts[b].mean()) / 1e6 for b in bins if len(b)]
        plt, fig, ax = _figure()
        ax.plot(xs, ys, color="#993333")
        ax.set_xlabel(name)
        ax.set_ylabel(f"mean total payout (million {currency})")
        ax.set_title(f"Payout curve: the total payout against {name}")
        _save(plt, fig, out / f"curve.{fmt}", fmt)
        written.append(out / f"curve.{fmt}")
    return written
