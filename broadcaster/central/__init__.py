"""The central service: store, planner, scheduler, MQTT publisher, media server, ingest and report.

Only the CLI modules and ``service`` compose these parts; each module here can be used (and
tested) on its own.
"""
