"""What is recorded: the store, the bus events go out on, status transitions and their
lifecycle, leases (the records and events themselves are `engine.views`)."""
