"""The ha.yaml model (stage 2, validate): field shapes in `model`, cross-field rules in `rules`.

The model is imported here, with pydantic's plugin discovery switched off while its classes
are built. Plugins are observability hooks other packages register through entry points; a
compiler's private spec model has nothing for them to observe, and finding them means reading
the metadata of every installed distribution on the first model built: ~14 ms of every run
on a machine with a few hundred packages (docs/performance.md). typer switches them off for
its own parameter adapters for the same reason. The user's setting is restored afterwards.
"""

import os

_KEY = "PYDANTIC_DISABLE_PLUGINS"
_before = os.environ.get(_KEY)
os.environ[_KEY] = "1"
try:
    from hacompile.spec import model as model
finally:
    if _before is None:
        del os.environ[_KEY]
    else:
        os.environ[_KEY] = _before
