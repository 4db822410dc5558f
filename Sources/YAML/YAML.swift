// YAML module: see README.
