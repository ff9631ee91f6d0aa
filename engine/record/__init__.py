"""What is recorded: the store, events and their bus, status and its lifecycle, leases."""
