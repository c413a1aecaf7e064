"""Recurrent layers on torch's fused kernels: SimpleRNN (``nn.RNN``), LSTM (``nn.LSTM``), GRU (``nn.GRU``), and Bidirectional."""

from kerasish.layers.rnn.bidirectional import Bidirectional
from kerasish.layers.rnn.gru import GRU
from kerasish.layers.rnn.lstm import LSTM
from kerasish.layers.rnn.simple_rnn import SimpleRNN

__all__ = ["Bidirectional", "GRU", "LSTM", "SimpleRNN"]
