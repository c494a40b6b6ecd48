"""Loaded by every Python subprocess the test session starts (the plugin puts this folder on PYTHONPATH).

When APIAUDIT_RULE_TRACE is set, installs tests/rule_coverage.py's wrappers so rules raised by an
``apiaudit`` subprocess against a real component are recorded too. Then runs the sitecustomize this
one shadows (Debian ships one), so nothing else changes.
"""

import importlib.util
import os
import sys

_here = os.path.dirname(os.path.abspath(__file__))
if os.environ.get("APIAUDIT_RULE_TRACE"):
    _spec = importlib.util.spec_from_file_location("_apiaudit_rule_coverage",
                                                   os.path.join(os.path.dirname(_here), "rule_coverage.py"))
    if _spec is not None and _spec.loader is not None:
        _mod = importlib.util.module_from_spec(_spec)
        sys.modules["_apiaudit_rule_coverage"] = _mod
        _spec.loader.exec_module(_mod)
        _mod.install()

for _entry in sys.path:
    _path = os.path.join(os.path.abspath(_entry or "."), "sitecustomize.py")
    if os.path.dirname(_path) != _here and os.path.isfile(_path):
        _chained = importlib.util.spec_from_file_location("_chained_sitecustomize", _path)
        if _chained is not None and _chained.loader is not None:
            _chained.loader.exec_module(importlib.util.module_from_spec(_chained))
        break
