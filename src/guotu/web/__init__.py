"""The HTTP server: OGC API - Features, vector tiles, site query (空间码) and the web UI.

:func:`guotu.web.app.create_app` builds the app from :class:`guotu.settings.Settings`;
handlers are thin over :mod:`guotu.services`.
"""
