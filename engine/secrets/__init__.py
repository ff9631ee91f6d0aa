"""Secrets: config references resolved on the host, and their redaction."""
