{
  "targets": [
    {
      "target_name": "pipeseal_floe",
      "sources": ["native/floe.c"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-fstack-protector-strong", "-D_FORTIFY_SOURCE=2"],
      "libraries": ["-ldl"]
    }
  ]
}
