"""git on the host: sources, bundles from the sandbox, and the result read from them."""
