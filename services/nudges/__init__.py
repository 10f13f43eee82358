"""Nudges: short messages grounded in a leader's own goals, drafted by an LLM or offline.

Import from the modules (`schema`, `context`, `validation`, `offline`, `drafting`) directly:
`services.llm` depends on them, so re-exporting `drafting` here would create an import cycle.
"""
