"""Gai & Zhang (arXiv 2407.02540): problem instances, Theorem 1 (float64, mpmath), the depth comparison
of Sec. 2 and the s score of Sec. 4."""
