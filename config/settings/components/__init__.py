"""Settings by concern, one module each; config/settings/base.py imports them all."""
