"""``driftscope demo``: a store with two models, 60 days of traffic and scripted trouble."""
