"""Jinshang marketplace: the composition root and the trade workflows."""
