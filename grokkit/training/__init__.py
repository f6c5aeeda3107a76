"""Training one run: `train(config, hooks)` (the one loop), its step (eager, compiled, CUDA-graphed), the
stop rule, resume state, the device and seeding, and `load_or_train` (the run cache)."""
