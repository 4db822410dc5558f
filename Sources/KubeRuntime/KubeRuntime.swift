// KubeRuntime module: see README.
