"""minicart: a tiny shopping cart."""
