file(REMOVE_RECURSE
  "libosprofiler_core.a"
)
