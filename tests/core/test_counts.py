"""Parameter, MAC and FLOP counts (convcalc.core.counts) through the one-layer API: the batch and pooling FLOPs.

The per-op tables in test_layer.py check the counts of every case too; test_properties.py counts them by brute force.
"""

from __future__ import annotations

import pytest

from convcalc import avgpool, conv, maxpool


@pytest.mark.parametrize("batch", [1, 2, 7, 100])
def test_batch_multiplies_macs_and_flops_not_params(batch):
    one = conv("12x12x3", out=4, k=3)
    many = conv("12x12x3", out=4, k=3, batch=batch)
    assert many.params == one.params
    assert many.macs == one.macs * batch
    assert many.flops == one.flops * batch
    assert many.output_shape == one.output_shape


def test_pool_flops():
    out_elements = 14 * 14 * 6
    assert maxpool("28x28x6", k=2).flops == (2 * 2 - 1) * out_elements
    assert avgpool("28x28x6", k=2).flops == 2 * 2 * out_elements
    assert maxpool("28x28x6", k=2, batch=3).flops == (2 * 2 - 1) * out_elements * 3
    assert maxpool("28x28x6", k=3, s=2).flops == (3 * 3 - 1) * 13 * 13 * 6
