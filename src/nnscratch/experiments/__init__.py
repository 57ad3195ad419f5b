"""Chapter 6's experiments and the hyperparameter search (``nnscratch experiment``, ``nnscratch
search``): each a library function that returns the numbers behind its figure."""
