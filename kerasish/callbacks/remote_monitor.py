"""``RemoteMonitor``: POST each epoch's logs to a server.

Args:
    root: server root URL (``"http://localhost:9000"``).
    path: path on the server (``"/publish/epoch/end/"``).
    field: form field holding the JSON data (``"data"``) when not
        ``send_as_json``.
    headers: optional dict of HTTP headers.
    send_as_json: send the body as ``application/json`` instead of a form.

The payload is ``{"epoch": epoch, **logs}``, as in Keras. It is sent with
the standard library (``urllib``), so ``requests`` is not needed; an
unreachable server gives a warning, not an error.

Example:

    >>> monitor = RemoteMonitor(root="http://localhost:9000")
    >>> # model.fit(x, y, callbacks=[monitor])
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
import warnings

import numpy as np

from kerasish.callbacks.callback import Callback

__all__ = ["RemoteMonitor"]


class RemoteMonitor(Callback):
    """Callback used to stream events to a server (see module doc)."""

    _chief_only = True  # data-parallel: only rank 0 prints / writes

    def __init__(self, root="http://localhost:9000", path="/publish/epoch/end/", field="data", headers=None, send_as_json=False):
        super().__init__()
        self.root = root
        self.path = path
        self.field = field
        self.headers = headers
        self.send_as_json = send_as_json

    def _post(self, url, body, headers):
        request = urllib.request.Request(url, data=body, headers=headers, method="POST")
        with urllib.request.urlopen(request, timeout=10) as response:
            response.read()

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        send = {"epoch": epoch}
        for k, v in logs.items():
            send[k] = v.item() if isinstance(v, (np.ndarray, np.generic)) else v
        headers = dict(self.headers or {})
        if self.send_as_json:
            body = json.dumps(send).encode("utf-8")
            headers.setdefault("Content-Type", "application/json")
        else:
            body = urllib.parse.urlencode({self.field: json.dumps(send)}).encode("utf-8")
            headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
        try:
            self._post(self.root + self.path, body, headers)
        except (urllib.error.URLError, OSError, ValueError):
            warnings.warn(f"Could not reach RemoteMonitor root server at {self.root}", stacklevel=2)
