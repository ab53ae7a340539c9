"""Scoring: metrics, held-out scoring, the judge, submission checks and the prior."""
