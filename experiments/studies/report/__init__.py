"""A study as one HTML page: the analysis of its results, the figures, and the page."""
