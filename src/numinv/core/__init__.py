"""The pure core: values, numbers, hierarchy, the tables and the lifecycle. No I/O."""
