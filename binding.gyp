{
  "targets": [
    {
      "target_name": "strata_syscalls",
      "sources": ["src/native/syscalls.c", "src/native/write-file.c", "src/native/disk-usage.c", "src/native/remove-tree.c", "src/native/addon-support.c"],
      "cflags": ["-Wall", "-Wextra", "-O2"]
    }
  ]
}
