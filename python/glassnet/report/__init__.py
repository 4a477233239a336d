"""glassnet.report: a self-contained HTML page about a trained classifier.

``write_report(ReportData(model, x_test, y_test, ...), "report.html")``
draws the training curves, the confusion matrix, per-layer statistics over
the epochs, the first layer's filters or weight templates, attribution maps
(saliency, integrated gradients, Grad-CAM), activation-maximisation images
and the misclassified test samples, each under a short explanation. Every
picture is a PNG embedded as a data: URI, so the single file reads offline.
The pictures need matplotlib: ``pip install "glassnet[viz]"``.
"""
from ._mpl import INSTALL_HINT, MissingDependency, require_matplotlib
from .build import SECTIONS, build_report, write_report
from .data import ReportData, image_shape_for
from .health import series_from_monitor

__all__ = ["ReportData", "build_report", "write_report", "MissingDependency", "INSTALL_HINT",
           "require_matplotlib", "image_shape_for", "series_from_monitor", "SECTIONS"]
