# Empty compiler generated dependencies file for osprofiler_core.
# This may be replaced when dependencies are built.
