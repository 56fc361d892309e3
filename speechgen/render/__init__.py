"""Renderers: each turns the site graph into Artifacts (bytes), none touches disk."""
