"""broadcaster: ward announcements as Vietnamese speech for loudspeakers and slides for the reception TV.

Importing this package has no side effects: no I/O, no logging set-up, no threads. Composition happens
in the CLI (``broadcaster.cli``) and in the service/agent entry points.
"""

__version__ = "0.1.0"
