"""Checkers for the book's exercises, with precise, friendly feedback.

Every exercise in the book asks for a function and ends with a cell such as::

    from cnnlib.exercises import check_conv_output_size
    check_conv_output_size(conv_output_size)

A checker runs your function against cnnlib's reference on the chapter's worked examples
and on edge cases. If everything agrees it prints one line and returns ``True``. At the
first wrong answer it raises :class:`ExerciseError` (an ``AssertionError``) that shows the
call, what is wrong — the type, the shape you returned and the shape expected, or the first
differing index with both values — and, when the mistake is a common one, its likely cause.
"""

from cnnlib.exercises.architectures import (
    check_conv_stack_params,
    check_dense_to_conv_weight,
    check_output_shapes,
    check_receptive_field,
)
from cnnlib.exercises.backprop import (
    check_conv2d,
    check_kernel_gradient,
    check_numerical_gradient,
    check_strided_input_gradient,
)
from cnnlib.exercises.convolution import (
    check_conv_output_size,
    check_conv_params,
    check_correlate2d,
    check_dilate_kernel,
)
from cnnlib.exercises.core import ExerciseError
from cnnlib.exercises.correlation import (
    check_compose_kernels,
    check_convolve2d,
    check_input_gradient,
    check_rot180,
)
from cnnlib.exercises.im2col import (
    check_col2im,
    check_conv2d_backward_im2col,
    check_conv2d_im2col,
    check_im2col,
)
from cnnlib.exercises.inside import (
    check_ascent_step,
    check_grad_cam_map,
    check_saliency_from_gradient,
    check_standardize_features,
)
from cnnlib.exercises.layers import (
    check_cross_entropy,
    check_dense_backward,
    check_sgd_momentum_step,
    check_softmax,
)
from cnnlib.exercises.pooling import (
    check_avg_pool2d_backward,
    check_concat_pool2d,
    check_max_pool2d,
    check_max_pool2d_backward,
)
from cnnlib.exercises.training import (
    check_binary_accuracy,
    check_confusion_matrix,
    check_minibatches,
    check_step_decay,
)

__all__ = [
    "ExerciseError",
    "check_ascent_step",
    "check_avg_pool2d_backward",
    "check_binary_accuracy",
    "check_col2im",
    "check_compose_kernels",
    "check_concat_pool2d",
    "check_confusion_matrix",
    "check_conv2d",
    "check_conv2d_backward_im2col",
    "check_conv2d_im2col",
    "check_conv_output_size",
    "check_conv_params",
    "check_conv_stack_params",
    "check_convolve2d",
    "check_correlate2d",
    "check_cross_entropy",
    "check_dense_backward",
    "check_dense_to_conv_weight",
    "check_dilate_kernel",
    "check_grad_cam_map",
    "check_im2col",
    "check_input_gradient",
    "check_kernel_gradient",
    "check_max_pool2d",
    "check_max_pool2d_backward",
    "check_minibatches",
    "check_numerical_gradient",
    "check_output_shapes",
    "check_receptive_field",
    "check_rot180",
    "check_saliency_from_gradient",
    "check_sgd_momentum_step",
    "check_softmax",
    "check_standardize_features",
    "check_step_decay",
    "check_strided_input_gradient",
]
