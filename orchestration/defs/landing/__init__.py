"""Inbox -> landing zone: site master, delivery tracking, per-site loads."""
