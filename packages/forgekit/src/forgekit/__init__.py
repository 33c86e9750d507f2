"""forgekit: the platform kit every product stands on.

It imports no product. Products build their FastAPI app with :func:`forgekit.app.create_app`
and add their own routers, tables and event handlers.
"""

__version__ = "0.1.0"
