"""A griffe extension for the API reference (used by mkdocs.yml, not a page).

kerasish's docstrings head their doctests ``Example:`` as Keras's do; griffe's
Google-style parser knows only ``Examples:`` as the section whose ``>>>``
lines become code. This rewrites the heading so those examples render as code.
"""

import re

import griffe

_HEADING = re.compile(r"^(\s*)Example:\s*$", re.MULTILINE)


class ExampleSections(griffe.Extension):
    def on_object(self, *, obj, **kwargs):
        doc = getattr(obj, "docstring", None)
        if doc is not None and "Example:" in doc.value:
            doc.value = _HEADING.sub(r"\1Examples:", doc.value)
