"""Chapter 7 checkers: correct code passes, each known mistake gets its own explanation."""

from __future__ import annotations

import math

import numpy as np
import pytest
from exercise_contract import ExerciseContract
from oracles import torch_or_skip

from cnnlib import exercises
from cnnlib.exercises import ExerciseError
from cnnlib.exercises.architectures import (
    CONV_STACK_PARAMS,
    DENSE_TO_CONV_WEIGHT,
    OUTPUT_SHAPES,
    RECEPTIVE_FIELD,
)

ALL = {
    "receptive_field": (RECEPTIVE_FIELD, exercises.check_receptive_field),
    "conv_stack_params": (CONV_STACK_PARAMS, exercises.check_conv_stack_params),
    "output_shapes": (OUTPUT_SHAPES, exercises.check_output_shapes),
    "dense_to_conv_weight": (DENSE_TO_CONV_WEIGHT, exercises.check_dense_to_conv_weight),
}


# Learner-style solutions, written independently of cnnlib (plain loops and numpy).
def loop_receptive_field(layers):
    field, jump = 1, 1
    for kernel, stride in layers:
        field = field + (kernel - 1) * jump
        jump = jump * stride
    return field


def loop_conv_stack_params(kernel_sizes, channels):
    total = 0
    for index, k in enumerate(kernel_sizes):
        weights = k * k * channels[index]
        total += (weights + 1) * channels[index + 1]
    return total


def loop_output_shapes(input_shape, layers):
    c, h, w = input_shape
    shapes = []
    flat = None
    for layer in layers:
        if layer[0] == "conv":
            _, filters, k, s, p = layer
            c, h, w = filters, (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1
            shapes.append((c, h, w))
        elif layer[0] == "pool":
            _, k, s = layer
            h, w = (h - k) // s + 1, (w - k) // s + 1
            shapes.append((c, h, w))
        elif layer[0] == "flatten":
            flat = c * h * w
            shapes.append((flat,))
        else:
            shapes.append((layer[1],))
    return shapes  # a list of tuples is as good as a tuple


def loop_dense_to_conv_weight(weight, volume):
    c, h, w = volume
    kernel = np.zeros((weight.shape[0], c, h, w))
    for unit in range(weight.shape[0]):
        feature = 0
        for channel in range(c):
            for row in range(h):
                for col in range(w):
                    kernel[unit, channel, row, col] = weight[unit, feature]
                    feature += 1
    return kernel


LEARNER = {
    "receptive_field": loop_receptive_field,
    "conv_stack_params": loop_conv_stack_params,
    "output_shapes": loop_output_shapes,
    "dense_to_conv_weight": loop_dense_to_conv_weight,
}


class TestChapter7Checkers(ExerciseContract):
    EXERCISES = ALL
    LEARNER = LEARNER
    MIN_MISTAKES = 4


# ----------------------------------------------------------------- references vs oracles
def test_the_receptive_field_reference_matches_torch_gradients():
    torch = torch_or_skip()
    for case in RECEPTIVE_FIELD.cases:
        (layers,) = case.args
        expected = case.call(RECEPTIVE_FIELD.reference)
        x = torch.ones(1, 1, 1, 4 * expected + 40, dtype=torch.float64, requires_grad=True)
        h = x
        for k, s in layers:
            h = torch.nn.functional.conv2d(h, torch.ones(1, 1, 1, k, dtype=torch.float64), stride=s)
        h[0, 0, 0, 0].backward()
        assert int(np.count_nonzero(x.grad.numpy())) == expected, layers


def test_the_parameter_reference_counts_like_torch():
    torch = torch_or_skip()
    for case in CONV_STACK_PARAMS.cases:
        kernel_sizes, channels = case.args
        with torch.device("meta"):
            stack = [
                torch.nn.Conv2d(c_in, c_out, k)
                for k, c_in, c_out in zip(kernel_sizes, channels[:-1], channels[1:], strict=True)
            ]
        count = sum(p.numel() for layer in stack for p in layer.parameters())
        assert case.call(CONV_STACK_PARAMS.reference) == count


def test_the_output_shape_reference_matches_torch_shapes():
    torch = torch_or_skip()
    nn = torch.nn
    for case in OUTPUT_SHAPES.cases:
        input_shape, layers = case.args
        x = torch.empty(1, *input_shape, device="meta")
        shapes = []
        for layer in layers:
            with torch.device("meta"):
                if layer[0] == "conv":
                    _, filters, k, s, p = layer
                    module = nn.Conv2d(x.shape[1], filters, k, stride=s, padding=p)
                elif layer[0] == "pool":
                    module = nn.MaxPool2d(layer[1], layer[2])
                elif layer[0] == "flatten":
                    module = nn.Flatten()
                else:
                    module = nn.Linear(x.shape[1], layer[1])
            x = module(x)
            shapes.append(tuple(x.shape[1:]))
        assert case.call(OUTPUT_SHAPES.reference) == tuple(shapes)


def test_the_converted_weight_gives_the_dense_scores_in_torch():
    torch = torch_or_skip()
    for case in DENSE_TO_CONV_WEIGHT.cases:
        weight, volume = case.args
        kernel = case.call(DENSE_TO_CONV_WEIGHT.reference)
        x = torch.from_numpy(np.random.default_rng(0).normal(size=(3, *volume)))
        dense = torch.nn.functional.linear(x.flatten(1), torch.from_numpy(weight))
        conv = torch.nn.functional.conv2d(x, torch.from_numpy(kernel))
        assert conv.shape == (3, weight.shape[0], 1, 1)
        np.testing.assert_allclose(conv.flatten(1).numpy(), dense.numpy(), rtol=1e-12)


# ---------------------------------------------------------------- messages, one by one
def test_a_field_without_the_jump_is_told_about_strides():
    def additive(layers):
        return 1 + sum(k - 1 for k, _ in layers)

    with pytest.raises(ExerciseError) as info:
        exercises.check_receptive_field(additive)
    message = str(info.value)
    assert "receptive_field([(3, 1), (2, 2), (3, 1)])" in message
    assert "your function returned 6, expected 8" in message
    assert "(k − 1)·j, not k − 1" in message


def test_a_stack_without_biases_reports_the_count():
    def no_bias(kernel_sizes, channels):
        return sum(k * k * channels[i] * channels[i + 1] for i, k in enumerate(kernel_sizes))

    with pytest.raises(ExerciseError) as info:
        exercises.check_conv_stack_params(no_bias)
    message = str(info.value)
    assert "conv_stack_params([3], [3, 32])" in message
    assert "returned 864, expected 896" in message
    assert "left out the biases" in message


def test_output_shapes_rounding_up_names_the_cifar_pool():
    def ceiling(input_shape, layers):
        c, h, w = input_shape
        out = []
        for layer in layers:
            if layer[0] == "conv":
                _, c, k, s, p = layer
                h = math.ceil((h + 2 * p - k) / s) + 1
                w = math.ceil((w + 2 * p - k) / s) + 1
                out.append((c, h, w))
            elif layer[0] == "pool":
                _, k, s = layer
                h, w = math.ceil((h - k) / s) + 1, math.ceil((w - k) / s) + 1
                out.append((c, h, w))
            elif layer[0] == "flatten":
                out.append((c * h * w,))
            else:
                out.append((layer[1],))
        return out

    with pytest.raises(ExerciseError) as info:
        exercises.check_output_shapes(ceiling)
    message = str(info.value)
    assert "case:    the sources' CIFAR network, layer by layer" in message
    assert "entry 3 of the tuple: entry 1 of the tuple: your function returned 7, expected 6" in (
        message
    )
    assert "you rounded up" in message


def test_a_channels_last_kernel_reports_the_first_wrong_weight():
    def keras(weight, volume):
        c, h, w = volume
        return weight.reshape(weight.shape[0], h, w, c).transpose(0, 3, 1, 2)

    with pytest.raises(ExerciseError) as info:
        exercises.check_dense_to_conv_weight(keras)
    message = str(info.value)
    assert "first difference at index (0, 0, 0, 1): yours 3, expected 1" in message
    assert "channels-last" in message


def test_a_kernel_of_the_wrong_shape_is_told_both_shapes():
    with pytest.raises(ExerciseError, match=r"shape \(1, 12\), expected \(1, 3, 2, 2\)"):
        exercises.check_dense_to_conv_weight(lambda weight, volume: weight)
