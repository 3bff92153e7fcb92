"""The emulator's controllers: each reconciles one kind through the API only (see base.py)."""
