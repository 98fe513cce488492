"""Consensus rule tests: proof of work, context-free and contextual checks, sequence locks."""
