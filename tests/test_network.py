import pytest
import torch

from tsforecast._nn.network import Embedding, StackedRNN, group_layers


def test_group_layers_fuses_equal_widths():
    assert group_layers([64, 64, 32, 32, 64]) == [(64, 2), (32, 2), (64, 1)]


@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("units", [[16], [16, 16], [16, 8, 8]])
def test_stacked_lstm_shapes(units, bidirectional):
    net = StackedRNN(3, units, 2, dropout=0.1, bidirectional=bidirectional)
    assert len(net.groups) == len(group_layers(units))
    out = net(torch.randn(5, 7, 3))
    assert out.shape == (5, 2)
    assert net.head.in_features == units[-1] * (2 if bidirectional else 1)


def test_output_depends_on_whole_window_but_not_on_batch_neighbours():
    torch.manual_seed(0)
    net = StackedRNN(1, [8, 8], 1).eval()
    x = torch.randn(4, 10, 1)
    with torch.no_grad():
        full = net(x)
        alone = net(x[1:2])
        changed = x.clone()
        changed[1, 0] += 1.0
        moved = net(changed)
    torch.testing.assert_close(full[1:2], alone)
    assert not torch.allclose(moved[1], full[1])
    torch.testing.assert_close(moved[[0, 2, 3]], full[[0, 2, 3]])


def test_token_input_refuses_a_linear_skip():
    with pytest.raises(ValueError, match="cannot read token ids"):
        StackedRNN(1, [4], 1, embedding=Embedding(20, 4, 0), skip_timesteps=8)
