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


def figure(width, height, layout="constrained"):
    """A new figure `width` x `height` inches. layout=None for charts that place their axes
    with subplots_adjust: the constrained layout costs about half the drawing time of a
    figure with many axes."""
    Figure = require_matplotlib()
    return Figure(figsize=(width, height), dpi=100, layout=layout)


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


def colorize(image, cmap, vmin, vmax):
    """A 2-D array as an (H, W, 3) RGB picture in [0, 1] through a matplotlib colormap."""
    from matplotlib import colormaps

    span = vmax - vmin if vmax > vmin else 1.0
    z = np.clip((np.asarray(image, dtype=np.float64) - vmin) / span, 0.0, 1.0)
    return colormaps[cmap](z)[..., :3]


def grid_figure(tiles, *, col_titles=None, row_titles=None, cell_titles=None, cell_color="#1f2328",
                tile_inches=0.8, title_lines=1, fontsize=8):
    """One figure showing RGB tiles (a list of rows, each a list of (h, w, 3) arrays or None)
    on a single canvas with titles above the columns, at the left of the rows and above each
    cell. Drawing one image and some text is many times faster than an axes per tile.
    cell_color: one colour or a list of rows of colours for the cell titles."""
    rows = len(tiles)
    cols = max(len(r) for r in tiles)
    first = next(t for r in tiles for t in r if t is not None)
    h, w = first.shape[:2]
    u = tile_inches / max(h, w)                              # inches per canvas pixel
    line = int(np.ceil(fontsize / 72 * 1.3 / u))             # one text line, in canvas pixels
    gap = max(1, int(round(0.1 / u)))
    cell_top = title_lines * line + (gap if cell_titles else 0) if cell_titles else 0
    top = line + gap if col_titles else 0
    def text_units(texts, size):   # a generous width estimate of the longest text line, in canvas pixels
        chars = max((len(line) for t in texts for line in str(t).split("\n")), default=0)
        return int(np.ceil(chars * size * 0.68 / 72 / u))

    left = text_units(row_titles, fontsize + 1) + 2 * gap if row_titles else 0
    # Columns widen (tiles centred) when their titles are longer than a tile.
    label_w = max(text_units(col_titles or [], fontsize + 1), text_units([t for row in (cell_titles or [])
                                                                          for t in row if t], fontsize))
    cell_w, cell_h = max(w, label_w) + gap, cell_top + h + gap
    inset = (cell_w - gap - w) // 2
    width, height = left + cols * cell_w - gap, top + rows * cell_h - gap
    canvas = np.ones((height, width, 3))
    for r, row in enumerate(tiles):
        for c, tile in enumerate(row):
            if tile is not None:
                y, x = top + r * cell_h + cell_top, left + c * cell_w + inset
                canvas[y:y + h, x:x + w] = tile[..., :3]
    Figure = require_matplotlib()
    fig = Figure(figsize=(width * u, height * u), dpi=100)
    ax = fig.add_axes([0, 0, 1, 1])
    ax.set_axis_off()
    ax.imshow(canvas, extent=(0, width, height, 0), interpolation="nearest")
    ax.set_xlim(0, width)
    ax.set_ylim(height, 0)
    for c, title in enumerate(col_titles or []):
        ax.text(left + c * cell_w + inset + w / 2, top - gap, title, ha="center", va="bottom",
                fontsize=fontsize + 1)
    for r, title in enumerate(row_titles or []):
        ax.text(left - gap + inset, top + r * cell_h + cell_top + h / 2, title, ha="right", va="center",
                fontsize=fontsize + 1)
    for r, row in enumerate(cell_titles or []):
        for c, title in enumerate(row):
            if title:
                color = cell_color if isinstance(cell_color, str) else cell_color[r][c]
                ax.text(left + c * cell_w + inset + w / 2, top + r * cell_h + cell_top - gap / 2, title, ha="center",
                        va="bottom", fontsize=fontsize, color=color, linespacing=1.05)
    return fig


def gray_ink(image):
    """A one-channel input as RGB with dark ink on white (min -> white, max -> black)."""
    lo, hi = float(np.min(image)), float(np.max(image))
    return colorize(image, "gray_r", lo, hi if hi > lo else lo + 1)


def as_rgb_input(image):
    """A raw input picture as RGB: one channel as ink on white, three channels clipped to [0, 1]."""
    return gray_ink(image) if image.ndim == 2 else np.clip(image, 0, 1)
