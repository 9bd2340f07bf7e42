"""Announcements as officers type them: one validation path for every way in (``spec``) and the
Vietnamese it answers in (``messages_vi``)."""
