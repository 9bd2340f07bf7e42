"""The ward's one web server: the officer's console under ``/console/`` and the media under ``/media/``.

``app.build_app`` composes the Starlette application; ``server.WebServer`` runs it with uvicorn on
a thread inside ``broadcaster serve``. Officer-facing words live in ``strings.py``.
"""
