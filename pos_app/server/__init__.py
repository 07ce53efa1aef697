"""Central inventory service: FastAPI over SQLAlchemy, the one source of truth for stock.

Modules: ``settings`` (typed configuration), ``db`` (engines, unit of work, writer lock),
``models`` (tables), ``migrations`` (Alembic), ``security`` (PINs, tokens, pairing codes),
``tls`` (private CA), ``audit`` (hash-chained log), ``catalog`` (event import format),
``services`` (transactions), ``routes`` (HTTP), ``app`` (composition root), ``runner``
(``pos-app serve``) and ``admin`` (``pos-app admin ...``).

The server never imports terminal code (``pos_app.client``, ``journal``, ``gui``).
"""
