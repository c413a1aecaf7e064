"""Recurrent layers: the cells (SimpleRNNCell, LSTMCell, GRUCell, StackedRNNCells),
RNN (any cell, the step loop), ConvLSTM2D, SimpleRNN / LSTM / GRU (torch's fused kernels when
the arguments allow, the step loop otherwise), Bidirectional and TimeDistributed."""

from kerasish.layers.rnn.bidirectional import Bidirectional
from kerasish.layers.rnn.cells import GRUCell, LSTMCell, SimpleRNNCell
from kerasish.layers.rnn.conv_lstm2d import ConvLSTM2D
from kerasish.layers.rnn.gru import GRU
from kerasish.layers.rnn.lstm import LSTM
from kerasish.layers.rnn.rnn import RNN
from kerasish.layers.rnn.simple_rnn import SimpleRNN
from kerasish.layers.rnn.stacked_rnn_cells import StackedRNNCells
from kerasish.layers.rnn.time_distributed import TimeDistributed

__all__ = ["Bidirectional", "ConvLSTM2D", "GRU", "GRUCell", "LSTM", "LSTMCell", "RNN", "SimpleRNN", "SimpleRNNCell",
           "StackedRNNCells", "TimeDistributed"]
