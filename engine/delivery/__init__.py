"""Delivering a result: pushing its branch and opening its pull request."""
