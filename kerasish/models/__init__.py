"""``kerasish.models``: Model, Sequential (and, later, load_model)."""

from kerasish.engine.model import Model
from kerasish.engine.functional import Functional
from kerasish.engine.sequential import Sequential
