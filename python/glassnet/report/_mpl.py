"""matplotlib, imported only when a report is drawn, and figures as data: URIs.

Figures are built on `matplotlib.figure.Figure` with the Agg canvas, never
through pyplot, so drawing a report neither needs a display nor changes the
backend a user's own session has chosen.
"""
import base64
import io

import numpy as np

INSTALL_HINT = 'pip install "glassnet[viz]"'


class MissingDependency(ImportError):
    """The report needs matplotlib (the `viz` extra) and it is not installed."""


def require_matplotlib():
    """matplotlib's Figure class; a MissingDependency naming the install command when it is absent."""
    try:
        from matplotlib.figure import Figure
    except ImportError as e:
        raise MissingDependency(f"the HTML report draws its pictures with matplotlib, which is not installed: "
                                f"{INSTALL_HINT}") from e
    return Figure


def figure(width, height):
    """A new figure `width` x `height` inches with the report's look."""
    Figure = require_matplotlib()
    fig = Figure(figsize=(width, height), dpi=100, layout="constrained")
    return fig


def style_axes(ax):
    """Light axes: no top/right spines, a faint grid behind the data."""
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    for side in ("left", "bottom"):
        ax.spines[side].set_color("#9aa0a6")
    ax.tick_params(colors="#444", labelsize=8)
    ax.grid(True, color="#e6e6e6", linewidth=0.8)
    ax.set_axisbelow(True)


def bare_axes(ax):
    """No ticks, no frame: for image tiles."""
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)


def to_data_uri(fig, dpi=110):
    """The figure as a base64 PNG data: URI (the page embeds it; nothing is written to disk)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, facecolor="white")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def mosaic(images, columns, pad=1, fill=None):
    """Tile images (N, H, W) or (N, H, W, 3) into one array, `pad` pixels of `fill`
    (default: the images' maximum, a white gap in the 'gray_r' map) between them;
    one imshow of the mosaic draws far faster than an axes per image."""
    images = np.asarray(images, dtype=np.float64)
    n, h, w = images.shape[:3]
    rows = -(-n // columns)
    if fill is None:
        fill = np.nanmax(images) if images.size else 0.0
    out = np.full((rows * (h + pad) - pad, columns * (w + pad) - pad) + images.shape[3:], fill)
    for i in range(n):
        r, c = divmod(i, columns)
        out[r * (h + pad):r * (h + pad) + h, c * (w + pad):c * (w + pad) + w] = images[i]
    return out
