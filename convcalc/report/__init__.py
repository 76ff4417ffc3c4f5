"""Rendering of results: tables, JSON, Markdown, CSV, explanations, output schemas, progress."""
