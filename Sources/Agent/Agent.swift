// Agent module: see README.
