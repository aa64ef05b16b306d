"""Public participation (公众参与, issue 18): what is decided without a store."""
