"""The broker interface the run loop depends on, and its alpaca-py adapter."""
