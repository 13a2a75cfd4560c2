{
  "targets": [
    {
      "target_name": "strata_syscalls",
      "sources": ["src/native/syscalls.c"],
      "cflags": ["-Wall", "-Wextra", "-O2"]
    }
  ]
}
