"""``python -m kerasish`` runs the ``kerasish`` command."""

import sys

from kerasish.cli import main

sys.exit(main())
