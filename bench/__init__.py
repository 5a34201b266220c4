"""Load benchmarks of Switchboard's pages (see bench/README.md). Not part of the app or the test suite."""
