"""Wire schemas of the central inventory API (``shared/API.md``), shared by server and client."""
