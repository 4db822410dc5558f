// PolicyCompiler module: see README.
