"""Many runs at once: stacked weights (`ensemble`, `stacked`, and their resume state), worker processes,
the tasks of a Dask or Slurm executor (`distributed`), the sweep over them and the measured engine choice."""
