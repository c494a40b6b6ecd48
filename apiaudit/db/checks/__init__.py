"""Pure checks of this audit kind. ``MODULES`` is the explicit registry: each module listed here is
imported by ``apiaudit.checks.load_checks`` and registers its checks with ``@check``."""

MODULES: tuple[str, ...] = (
    "fk", "indexes", "tables", "plans", "antipatterns", "pool", "cachehit", "nplusone", "logs", "health",
)
