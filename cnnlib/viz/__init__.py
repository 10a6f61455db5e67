"""The figures and animations the book draws.

Every function returns a :class:`Figure` (or an :class:`APNG` animation) that displays
itself in Jupyter as a PNG on a white background; nothing touches pyplot's global state.

Chapter 1
    :func:`sliding_window_figure`, :func:`sliding_window_animation`,
    :func:`padding_modes_figure`, :func:`windows_1d_figure`, :func:`coverage_figure`,
    :func:`dilation_figure`.
Chapter 2
    :func:`rot180_figure`, :func:`impulse_response_figure`.
Chapter 3
    :func:`dilated_gradient_figure`, :func:`pixel_contributions_figure`.
Chapter 4
    :func:`pooling_figure`, :func:`pooling_windows_figure`, :func:`pool_routing_figure`.
Chapter 5
    :func:`flatten_figure`, :func:`activation_figure`, :func:`layer_profile_figure`,
    :func:`optimizer_paths_figure`.
Chapter 6
    :func:`im2col_figure`, :func:`col2im_figure`.
Chapter 7
    :func:`receptive_field_figure`, :func:`score_grid_figure`.
Chapter 8
    :func:`image_grid`, :func:`training_curves`, :func:`confusion_matrix_figure`,
    :func:`mistakes_figure`.
Chapter 9
    :func:`filters_figure`, :func:`feature_maps_figure`, :func:`attribution_figure`,
    :func:`probe_accuracy_figure`.
Any chapter
    :func:`image_row` (arrays as images), :func:`draw_grid` (a matrix as numbered cells).
"""

from cnnlib.viz.activations import (
    activation_figure,
    flatten_figure,
    layer_profile_figure,
    optimizer_paths_figure,
)
from cnnlib.viz.animation import APNG, sliding_window_animation
from cnnlib.viz.architectures import receptive_field_figure, score_grid_figure
from cnnlib.viz.backprop import dilated_gradient_figure, pixel_contributions_figure
from cnnlib.viz.convolution import (
    coverage_figure,
    dilation_figure,
    padding_modes_figure,
    sliding_window_figure,
    windows_1d_figure,
)
from cnnlib.viz.correlation import impulse_response_figure, rot180_figure
from cnnlib.viz.figure import Figure, new_figure
from cnnlib.viz.grid import draw_grid
from cnnlib.viz.im2col import col2im_figure, im2col_figure
from cnnlib.viz.images import image_row
from cnnlib.viz.inside import (
    attribution_figure,
    feature_maps_figure,
    filters_figure,
    probe_accuracy_figure,
)
from cnnlib.viz.pooling import pool_routing_figure, pooling_figure, pooling_windows_figure
from cnnlib.viz.training import (
    confusion_matrix_figure,
    image_grid,
    mistakes_figure,
    training_curves,
)

__all__ = [
    "APNG",
    "Figure",
    "activation_figure",
    "attribution_figure",
    "col2im_figure",
    "confusion_matrix_figure",
    "coverage_figure",
    "dilated_gradient_figure",
    "dilation_figure",
    "draw_grid",
    "feature_maps_figure",
    "filters_figure",
    "flatten_figure",
    "im2col_figure",
    "image_grid",
    "image_row",
    "impulse_response_figure",
    "layer_profile_figure",
    "mistakes_figure",
    "new_figure",
    "optimizer_paths_figure",
    "padding_modes_figure",
    "pixel_contributions_figure",
    "pool_routing_figure",
    "pooling_figure",
    "pooling_windows_figure",
    "probe_accuracy_figure",
    "receptive_field_figure",
    "rot180_figure",
    "score_grid_figure",
    "sliding_window_animation",
    "sliding_window_figure",
    "training_curves",
    "windows_1d_figure",
]
