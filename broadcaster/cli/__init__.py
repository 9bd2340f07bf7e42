"""Command-line interface: the one place where the parts are composed into running programs."""
