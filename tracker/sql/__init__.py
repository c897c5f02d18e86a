"""SQL written by hand for the hot paths, one module per path; the services read as rules."""
