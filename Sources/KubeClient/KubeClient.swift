// KubeClient module: see README.
