"""Side-by-side benchmarks (make bench); not part of the shipped package."""
