"""Service layer: plain functions that run one unit of work each and raise
:class:`pos_app.server.errors.ApiError` for refusals. Routes call them; they never see HTTP."""
