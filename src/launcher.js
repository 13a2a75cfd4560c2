#!/usr/bin/env node
// The package's bin, copied to dist/cli.js by the build: the compiled CLI
// lives in dist/src/, beside the benchmark suite in dist/native-bench/.
require('./src/cli.js');
